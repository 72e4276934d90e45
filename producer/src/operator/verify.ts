import { jobDataSchema, jobIdFor } from '@labelq/shared/job';
import type { LabelQueue } from '@labelq/shared/queue';
import type { RunRegistry } from '@labelq/shared/run-registry';
import type { RecordStore } from '@labelq/shared/store/record-store';
import { readEnqueuedManifest } from './enqueued-manifest.ts';
import { readRecordObjects } from './record-objects.ts';

export interface VerifyOptions {
  store: RecordStore;
  run: string;
  /**
   * With the queue and registry, the enqueued chunks are those the run registry knows; a chunk missing from the
   * enqueued manifest is read from its job's data in Redis. Without them (`--out`), the manifest alone says
   * what was enqueued.
   */
  redis?: { queue: LabelQueue; registry: RunRegistry };
  /** Entries kept per list (the counts count all). */
  shown?: number;
}

/** The first few entries of a list and how many there are. */
export interface Listed<T> {
  count: number;
  first: T[];
}

export interface VerifyReport {
  run: string;
  ok: boolean;
  chunks: number;
  /** Chunks whose URIs came from the enqueued manifest / from the jobs' data in Redis. */
  chunksFromManifest: number;
  chunksFromJobs: number;
  enqueuedUris: number;
  recordObjects: number;
  records: number;
  /** Enqueued URIs without a record (or with fewer records than times enqueued). */
  missing: Listed<string>;
  /** URIs with more records than times enqueued (2+ when enqueued once). */
  duplicated: Listed<{ uri: string; records: number }>;
  /** Records of URIs that were never enqueued in this run. */
  unexpected: Listed<string>;
  /** Record objects that could not be read, as sentences (their URIs count as missing). */
  unreadable: Listed<string>;
  /** Registered chunks whose URIs are known neither from the manifest nor from a job (BullMQ removed it). */
  unknownChunks: Listed<number>;
  /** Lines of the enqueued manifest that could not be read. */
  manifestProblems: string[];
}

export const defaultShown = 20;

function listed<T>(): Listed<T> {
  return { count: 0, first: [] };
}

function add<T>(list: Listed<T>, value: T, shown: number): void {
  list.count += 1;
  if (list.first.length < shown) list.first.push(value);
}

/**
 * Checks that every enqueued URI of a run has exactly one record in the store, and names what is missing,
 * duplicated, unexpected or unreadable. Holds every URI of the run in memory (two maps).
 */
export async function verifyRun(options: VerifyOptions): Promise<VerifyReport> {
  const { store, run } = options;
  const shown = options.shown ?? defaultShown;
  const manifest = await readEnqueuedManifest(store, run);
  const report: VerifyReport = {
    run,
    ok: false,
    chunks: 0,
    chunksFromManifest: 0,
    chunksFromJobs: 0,
    enqueuedUris: 0,
    recordObjects: 0,
    records: 0,
    missing: listed(),
    duplicated: listed(),
    unexpected: listed(),
    unreadable: listed(),
    unknownChunks: listed(),
    manifestProblems: manifest.problems,
  };

  const expected = new Map<string, number>();
  const expect = (uris: readonly string[]): void => {
    for (const uri of uris) expected.set(uri, (expected.get(uri) ?? 0) + 1);
    report.enqueuedUris += uris.length;
  };
  if (options.redis === undefined) {
    for (const uris of manifest.chunks.values()) expect(uris);
    report.chunks = manifest.chunks.size;
    report.chunksFromManifest = manifest.chunks.size;
  } else {
    const { queue, registry } = options.redis;
    await registry.requireRun(run);
    const chunks = [...(await registry.chunkCounts(run)).keys()].sort((a, b) => a - b);
    report.chunks = chunks.length;
    for (const chunk of chunks) {
      const fromManifest = manifest.chunks.get(chunk);
      if (fromManifest !== undefined) {
        expect(fromManifest);
        report.chunksFromManifest += 1;
        continue;
      }
      const job = await queue.getJob(jobIdFor(run, chunk));
      const data = job === undefined ? undefined : jobDataSchema.safeParse(job.data);
      if (data?.success === true) {
        expect(data.data.uris);
        report.chunksFromJobs += 1;
      } else {
        add(report.unknownChunks, chunk, shown);
      }
    }
  }

  const actual = new Map<string, number>();
  for await (const object of readRecordObjects(store, run)) {
    report.recordObjects += 1;
    if (object.problem !== undefined) add(report.unreadable, object.problem, shown);
    for (const record of object.records) actual.set(record.uri, (actual.get(record.uri) ?? 0) + 1);
    report.records += object.records.length;
  }

  for (const [uri, times] of expected) {
    const records = actual.get(uri) ?? 0;
    if (records < times) add(report.missing, uri, shown);
    else if (records > times) add(report.duplicated, { uri, records }, shown);
  }
  for (const uri of actual.keys()) {
    if (!expected.has(uri)) add(report.unexpected, uri, shown);
  }
  report.ok =
    report.missing.count === 0 &&
    report.duplicated.count === 0 &&
    report.unexpected.count === 0 &&
    report.unreadable.count === 0 &&
    report.unknownChunks.count === 0 &&
    report.manifestProblems.length === 0;
  return report;
}

/** The report for a person; the problems, each with its first entries. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines = [
    `Run ${report.run}: ${report.enqueuedUris} URIs enqueued in ${report.chunks} chunks (URIs from the enqueued manifest for ${report.chunksFromManifest}, from job data in Redis for ${report.chunksFromJobs}); ${report.records} records in ${report.recordObjects} record objects.`,
  ];
  const section = <T>(list: Listed<T>, title: string, show: (value: T) => string): void => {
    if (list.count === 0) return;
    lines.push(`${title}: ${list.count}`);
    for (const value of list.first) lines.push(`  ${show(value)}`);
    if (list.count > list.first.length) lines.push(`  … and ${list.count - list.first.length} more`);
  };
  section(report.missing, 'URIs without a record', (uri) => uri);
  section(report.duplicated, 'URIs with more than one record', ({ uri, records }) => `${uri} (${records} records)`);
  section(report.unexpected, 'records of URIs never enqueued in this run', (uri) => uri);
  section(report.unreadable, 'unreadable record objects', (problem) => problem);
  section(report.unknownChunks, 'chunks whose URIs are unknown (no enqueued manifest, job removed)', (chunk) => `chunk ${chunk}`);
  for (const problem of report.manifestProblems) lines.push(`enqueued manifest: ${problem}`);
  if (report.ok) lines.push('OK: every enqueued URI has exactly one record.');
  return `${lines.join('\n')}\n`;
}

/** One sentence for the error that makes `labelq verify` exit 1. */
export function verifyFailureSentence(report: VerifyReport): string {
  const parts: string[] = [];
  if (report.missing.count > 0) parts.push(`${report.missing.count} enqueued ${report.missing.count === 1 ? 'URI has' : 'URIs have'} no record`);
  if (report.duplicated.count > 0) parts.push(`${report.duplicated.count} ${report.duplicated.count === 1 ? 'URI has' : 'URIs have'} more than one record`);
  if (report.unexpected.count > 0) parts.push(`${report.unexpected.count} ${report.unexpected.count === 1 ? 'URI that was never enqueued has' : 'URIs that were never enqueued have'} records`);
  if (report.unreadable.count > 0) parts.push(`${report.unreadable.count} record ${report.unreadable.count === 1 ? 'object is' : 'objects are'} unreadable`);
  if (report.unknownChunks.count > 0) parts.push(`the URIs of ${report.unknownChunks.count} ${report.unknownChunks.count === 1 ? 'chunk are' : 'chunks are'} unknown`);
  if (report.manifestProblems.length > 0) parts.push(`${report.manifestProblems.length} enqueued manifest ${report.manifestProblems.length === 1 ? 'line is' : 'lines are'} unreadable`);
  return `Run "${report.run}" does not verify: ${parts.join('; ')} (listed on standard output).`;
}
