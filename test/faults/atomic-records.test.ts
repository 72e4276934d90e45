import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSchema } from '@labelq/shared/record';
import { LocalStore } from '@labelq/shared/store/local-store';
import { S3Store } from '@labelq/shared/store/s3-store';
import { recordKey, type RecordStore } from '@labelq/shared/store/record-store';
import { faultServicesMissing, startFaultServices, type FaultServices } from '../support/fault-services.ts';
import { writeImageCopiesManifest } from '../support/image-copies.ts';
import { runLabelq } from '../support/labelq-process.ts';
import { printFigures, tallyRecords } from '../support/run-outcome.ts';

/**
 * Results are never half-written. A writer rewrites a run's record objects (about 450 KB each) over and over,
 * each version's lines all marked with the version, while readers poll: in this process (store.get, as fast as
 * they can) and as `labelq results` child processes. Every object read must be one whole version: complete
 * lines, all of the same version, as many as the chunk has URIs. For the folder store a control writes in place
 * (no temporary file and rename) and the same readers catch partial objects, which shows they would notice.
 */
const s3Missing = faultServicesMissing({ s3: true });
const bucket = 'labelq-atomic';
const chunkSize = 500;
const writeForMs = 8_000;

describe.skipIf(s3Missing !== undefined)('readers never see half-written record objects', () => {
  let services: FaultServices;
  let uris: string[];
  let manifest: string;
  const resultsProblems: string[] = [];
  beforeAll(async () => {
    services = await startFaultServices({ s3: true });
    await services.createBucket(bucket);
    ({ manifest, uris } = await writeImageCopiesManifest(join(services.dir, 'images'), 2));
  });
  afterAll(async () => {
    await services?.close();
  });

  function objectBody(run: string, chunk: number, version: number): string {
    const padding = 'x'.repeat(800);
    return uris
      .slice(chunk * chunkSize, (chunk + 1) * chunkSize)
      .map((uri) => JSON.stringify({ uri, run, model: { name: 'atomicity-check', sha256: '0'.repeat(64) }, top: [{ index: version, wnid: 'n0', label: `v${version}-${padding}`, p: 1 }] }))
      .map((line) => `${line}\n`)
      .join('');
  }

  /** Undefined for a whole object of one version; otherwise what is wrong with it. */
  function problemOf(body: string): string | undefined {
    if (!body.endsWith('\n')) return `ends without a newline after ${body.length} bytes`;
    const lines = body.slice(0, -1).split('\n');
    if (lines.length !== chunkSize) return `${lines.length} lines instead of ${chunkSize}`;
    const versions = new Set<number>();
    for (const line of lines) {
      try {
        const record = recordSchema.parse(JSON.parse(line));
        if ('top' in record) versions.add(record.top[0]!.index);
      } catch {
        return `a line is not a record: ${line.slice(0, 80)}…`;
      }
    }
    return versions.size === 1 ? undefined : `lines of ${versions.size} versions`;
  }

  async function hammer(kind: string, store: RecordStore, run: string, write: (key: string, body: string) => Promise<void>) {
    const enqueue = await runLabelq(['enqueue', manifest, '--run', run, '--chunk', String(chunkSize), '--out', store.url], services.env(`atomic-${kind}`));
    expect(enqueue.code, enqueue.stderr).toBe(0);
    const chunks = uris.length / chunkSize;
    for (let chunk = 0; chunk < chunks; chunk++) await write(recordKey(run, chunk), objectBody(run, chunk, 0));

    let writing = true;
    let versions = 0;
    const writer = (async () => {
      const until = performance.now() + writeForMs;
      for (let version = 1; performance.now() < until; version++) {
        await Promise.all(Array.from({ length: chunks }, (_, chunk) => write(recordKey(run, chunk), objectBody(run, chunk, version))));
        versions = version;
      }
      writing = false;
    })();
    let reads = 0;
    let notFound = 0; // an object that exists read as absent: not a partial object, counted apart
    const problems: string[] = [];
    const reader = async (): Promise<void> => {
      while (writing) {
        const body = await store.get(recordKey(run, reads % chunks));
        reads++;
        if (body === undefined) {
          notFound++;
          continue;
        }
        const problem = problemOf(body.toString('utf8'));
        if (problem !== undefined) problems.push(problem);
      }
    };
    let resultsRuns = 0;
    const resultsProblems: string[] = [];
    const resultsReader = async (): Promise<void> => {
      while (writing) {
        const results = await runLabelq(['results', run], services.env(`atomic-${kind}`));
        resultsRuns++;
        if (results.code !== 0) resultsProblems.push(results.stderr.slice(0, 300));
        else {
          const tally = tallyRecords(results.stdout, uris);
          if (tally.missing + tally.duplicated + tally.unexpected !== 0) {
            const seen = new Set(results.stdout.split('\n').filter((line) => line !== '').map((line) => (JSON.parse(line) as { uri: string }).uri));
            const missingAt = uris.flatMap((uri, i) => (seen.has(uri) ? [] : [i]));
            resultsProblems.push(`${JSON.stringify(tally)}; missing items at ${missingAt.slice(0, 10).join(', ')}; stdout ${results.stdout.length} bytes, ends ${JSON.stringify(results.stdout.slice(-40))}`);
          }
        }
      }
    };
    await Promise.all([writer, reader(), reader(), resultsReader()]);
    return { versions, reads, notFound, problems, resultsRuns, resultsProblems };
  }

  it('folder store: temporary file and rename', { timeout: 120_000 }, async () => {
    const store = new LocalStore(join(services.dir, 'out'));
    const outcome = await hammer('local', store, 'atomic-local', (key, body) => store.put(key, body));
    resultsProblems.push(...outcome.resultsProblems.map((problem) => `folder store: ${problem}`));
    // Control: the same readers against writes made in place catch partial objects.
    const control = await hammer('control', new LocalStore(join(services.dir, 'control')), 'atomic-control', async (key, body) => {
      const path = join(services.dir, 'control', ...key.split('/'));
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, body);
    });
    printFigures('atomic-records-local', {
      versionsWritten: outcome.versions,
      reads: outcome.reads,
      partialReads: outcome.problems.length,
      notFoundReads: outcome.notFound,
      resultsCommands: outcome.resultsRuns,
      resultsProblems: outcome.resultsProblems.length,
      controlInPlaceWrites: { reads: control.reads, partialReads: control.problems.length, resultsProblems: control.resultsProblems.length },
    });
    expect(outcome.problems.slice(0, 5)).toEqual([]);
    expect(outcome.notFound).toBe(0);
    expect(outcome.reads).toBeGreaterThan(50);
    expect(outcome.resultsRuns).toBeGreaterThan(0);
    expect(control.problems.length + control.resultsProblems.length).toBeGreaterThan(0);
    expect(await readFile(join(services.dir, 'out', 'atomic-local', 'records', '00000000.jsonl'), 'utf8')).toMatch(/\n$/);
  });

  it('S3 store: one PutObject per object', { timeout: 120_000 }, async () => {
    const store = new S3Store(services.s3Client(), bucket, 'results');
    const outcome = await hammer('s3', store, 'atomic-s3', (key, body) => store.put(key, body));
    resultsProblems.push(...outcome.resultsProblems.map((problem) => `S3 store: ${problem}`));
    printFigures('atomic-records-s3', {
      versionsWritten: outcome.versions,
      reads: outcome.reads,
      partialReads: outcome.problems.length,
      // Swift (the test server) can answer 404 for an object while it is being overwritten; AWS S3 does not.
      // That is not a half-written object, so it is counted, not failed on.
      notFoundReads: outcome.notFound,
      resultsCommands: outcome.resultsRuns,
      resultsProblems: outcome.resultsProblems.length,
    });
    expect(outcome.problems.slice(0, 5)).toEqual([]);
    expect(outcome.reads).toBeGreaterThan(20);
    expect(outcome.resultsRuns).toBeGreaterThan(0);
  });

  // The command's own output, checked apart from the stores: it has been seen losing its last lines when its
  // standard output is a busy pipe, because worker/bin/labelq.js calls process.exit() before the last write is
  // flushed (the objects read were whole). The fix belongs there: wait for process.stdout.write('', callback).
  it('labelq results printed every record of every read, for both stores', () => {
    expect(resultsProblems).toEqual([]);
  });
});
