import { isLabelqError } from '@labelq/shared/errors';
import type { ResultRecord } from '@labelq/shared/record';
import { chunkOfRecordKey, runRecordsPrefix, type RecordStore } from '@labelq/shared/store/record-store';
import { parseRecordLines } from '../results.ts';

/** One record object of a run, read whole: its records, or why it cannot be read. */
export interface RecordObject {
  key: string;
  chunk: number;
  records: ResultRecord[];
  /** Why the object is unreadable (a line that is not a record, an object that vanished); records is empty then. */
  problem?: string;
}

/** Objects read at once. */
const readAhead = 8;

/**
 * Every record object of a run in key (chunk) order. Unlike `readRunRecords`, a bad object does not stop the
 * reading: it comes back with its `problem`, so operator commands can name it and go on.
 */
export async function* readRecordObjects(store: RecordStore, run: string): AsyncIterable<RecordObject> {
  const pending: { key: string; chunk: number; body: Promise<Buffer | undefined> }[] = [];
  const keys = store.list(runRecordsPrefix(run))[Symbol.asyncIterator]();
  let listed = false;
  const fill = async (): Promise<void> => {
    while (!listed && pending.length < readAhead) {
      const next = await keys.next();
      if (next.done === true) {
        listed = true;
        break;
      }
      const chunk = chunkOfRecordKey(next.value);
      if (chunk === undefined) continue;
      const body = store.get(next.value);
      body.catch(() => undefined); // observed when its turn comes
      pending.push({ key: next.value, chunk, body });
    }
  };
  await fill();
  while (pending.length > 0) {
    const { key, chunk, body } = pending.shift()!;
    await fill();
    const bytes = await body;
    if (bytes === undefined) {
      yield { key, chunk, records: [], problem: `${store.url}${key} was listed but could not be found when read.` };
      continue;
    }
    try {
      yield { key, chunk, records: [...parseRecordLines(bytes.toString('utf8'), `${store.url}${key}`)] };
    } catch (error) {
      if (!isLabelqError(error)) throw error;
      yield { key, chunk, records: [], problem: error.message };
    }
  }
}
