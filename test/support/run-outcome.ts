import { readFileSync } from 'node:fs';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { RunRegistry, type RunStatus } from '@labelq/shared/run-registry';
import { recordSchema } from '@labelq/shared/record';

/** How the records of a run compare with the URIs enqueued: the figures a fault test asserts and prints. */
export interface RecordTally {
  records: number;
  /** Enqueued URIs with no record. */
  missing: number;
  /** URIs with more records than they were enqueued. */
  duplicated: number;
  /** Records of URIs never enqueued. */
  unexpected: number;
  /** Records with an error instead of labels. */
  errorRecords: number;
}

/** Tallies the JSON Lines printed by `labelq results` against the URIs enqueued (each line checked by the record schema). */
export function tallyRecords(resultsJsonl: string, enqueuedUris: readonly string[]): RecordTally {
  const expected = new Map<string, number>();
  for (const uri of enqueuedUris) expected.set(uri, (expected.get(uri) ?? 0) + 1);
  const seen = new Map<string, number>();
  let records = 0;
  let errorRecords = 0;
  for (const line of resultsJsonl.split('\n')) {
    if (line.trim() === '') continue;
    const record = recordSchema.parse(JSON.parse(line));
    records++;
    if ('error' in record) errorRecords++;
    seen.set(record.uri, (seen.get(record.uri) ?? 0) + 1);
  }
  let missing = 0;
  let duplicated = 0;
  let unexpected = 0;
  for (const [uri, count] of expected) {
    const got = seen.get(uri) ?? 0;
    if (got < count) missing += count - got;
    if (got > count) duplicated += got - count;
  }
  for (const [uri, count] of seen) if (!expected.has(uri)) unexpected += count;
  return { records, missing, duplicated, unexpected, errorRecords };
}

/**
 * Polls the run registry until `until` holds (default: the run is finished, every job done or failed) or
 * `timeoutMs` passes. Errors while Redis is away are tolerated (the poll goes on).
 */
export async function waitForRun(
  redisUrl: string,
  queue: string,
  run: string,
  options: { timeoutMs: number; pollMs?: number; until?: (status: RunStatus) => boolean },
): Promise<RunStatus> {
  const until = options.until ?? ((status: RunStatus) => status.finished);
  const connection = createRedisConnection(redisUrl, 'worker');
  connection.on('error', () => undefined);
  const registry = new RunRegistry(connection, 'bull', queue);
  const deadline = performance.now() + options.timeoutMs;
  let last: RunStatus | undefined;
  try {
    while (performance.now() < deadline) {
      try {
        last = await withTimeout(registry.status(run), 5_000);
      } catch {
        // Redis away or the run not registered yet: poll again.
      }
      if (last !== undefined && until(last)) return last;
      await new Promise((done) => setTimeout(done, options.pollMs ?? 500));
    }
    throw new Error(`run ${run} did not get there within ${options.timeoutMs} ms; last status: ${JSON.stringify(last ?? null)}`);
  } finally {
    connection.disconnect();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, fail) => setTimeout(() => fail(new Error('timed out')), ms).unref())]);
}

/** CPU time (user + system) a process has used, in seconds, from /proc (Linux); undefined once it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state is [0]; utime is field 14 of the whole line, i.e. [11] here; stime [12].
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** One line the lead can grep in CI logs: `[fault figures] {...}`. */
export function printFigures(name: string, figures: Record<string, unknown>): void {
  process.stderr.write(`[fault figures] ${JSON.stringify({ test: name, ...figures })}\n`);
}
