import { LabelqError } from '@labelq/shared/errors';
import { recordSchema, type ResultRecord } from '@labelq/shared/record';
import { chunkOfRecordKey, runRecordsPrefix, type RecordStore } from '@labelq/shared/store/record-store';

/** Record objects fetched at once while reading a run (the order of the output stays the key order). */
export const recordObjectsReadAhead = 8;

/**
 * Every record of a run, in chunk order and, inside a chunk, in the order the worker wrote them. Lists the
 * run's records prefix, reads each record object (several at once), splits it into lines and checks each
 * line against the record schema: a line that is not a record throws RECORD_INVALID naming the object and
 * line. Objects under the prefix that are not record objects are ignored.
 */
export async function* readRunRecords(store: RecordStore, run: string, readAhead = recordObjectsReadAhead): AsyncIterable<ResultRecord> {
  const reads: { key: string; body: Promise<Buffer | undefined> }[] = [];
  const keys = store.list(runRecordsPrefix(run))[Symbol.asyncIterator]();
  let listed = false;

  const fill = async (): Promise<void> => {
    while (!listed && reads.length < readAhead) {
      const next = await keys.next();
      if (next.done === true) {
        listed = true;
        break;
      }
      const key = next.value;
      if (chunkOfRecordKey(key) === undefined) continue;
      const body = store.get(key);
      body.catch(() => undefined); // observed when its turn comes
      reads.push({ key, body });
    }
  };

  await fill();
  while (reads.length > 0) {
    const read = reads.shift()!;
    await fill();
    const body = await read.body;
    // A record object that vanished between listing and reading (a run deleted meanwhile) holds nothing.
    if (body === undefined) continue;
    yield* parseRecordLines(body.toString('utf8'), `${store.url}${read.key}`);
  }
}

/** The records of one JSON Lines object. `where` names the object in error messages. */
export function* parseRecordLines(text: string, where: string): Iterable<ResultRecord> {
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new LabelqError('RECORD_INVALID', `Line ${index + 1} of ${where} is not JSON: ${(error as Error).message}.`);
    }
    const result = recordSchema.safeParse(value);
    if (!result.success) {
      const issues = result.error.issues.map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`).join('; ');
      throw new LabelqError('RECORD_INVALID', `Line ${index + 1} of ${where} is not a labelq record (${issues}).`);
    }
    yield result.data;
  }
}
