import { jobIdFor, jobPayloadVersion, labelJobName, type JobData } from '@labelq/shared/job';
import type { LabelQueue } from '@labelq/shared/queue';
import { isErrorRecord } from '@labelq/shared/record';
import type { RunRegistry } from '@labelq/shared/run-registry';
import type { RecordStore } from '@labelq/shared/store/record-store';
import { readEnqueuedManifest } from './enqueued-manifest.ts';
import { failedJobsOfRun } from './failed.ts';
import { readRecordObjects } from './record-objects.ts';

export interface RetryOptions {
  queue: LabelQueue;
  registry: RunRegistry;
  store: RecordStore;
  run: string;
  /** Also run again the chunks whose records hold item errors (the whole chunk; its record object is replaced). */
  items?: boolean;
  /** With `items`: only chunks holding errors with one of these codes (default: any code). */
  codes?: readonly string[];
}

export interface RetryResult {
  run: string;
  /** Chunks whose failed jobs went back to the queue, attempts reset. */
  failedJobs: number[];
  /** Chunks run again for their item errors. */
  itemChunks: number[];
  /** Error records in those chunks (each will be replaced by a new record). */
  itemErrors: number;
  /** Of `itemChunks`, those whose completed job BullMQ had removed: added again under the same job id. */
  readded: number[];
  /** Chunks left alone, with why (their job is already waiting or running). */
  skipped: string[];
}

const resetAttempts = { resetAttemptsMade: true, resetAttemptsStarted: true } as const;

/**
 * Re-enqueues what failed in a run, and only that.
 *
 * - Jobs in BullMQ's failed set go back to wait with their attempts reset (`job.retry('failed')`).
 * - With `items`, every chunk whose record object holds an error record (of one of `codes`, if given) is run
 *   again as a whole: its completed job is retried (`job.retry('completed')`), or, when BullMQ already removed
 *   it, added again under the same job id with the chunk's URIs (from the enqueued manifest, else the record
 *   object, which lists the same URIs in the same order). The worker then overwrites the chunk's record object,
 *   so no URI gets a second record.
 *
 * The run registry forgets those chunks' failed/done state first (`markRequeued`), so `labelq status` counts
 * them as queued until a worker finishes them.
 */
export async function retryRun(options: RetryOptions): Promise<RetryResult> {
  const { queue, registry, store, run } = options;
  const meta = await registry.requireRun(run);
  const result: RetryResult = { run, failedJobs: [], itemChunks: [], itemErrors: 0, readded: [], skipped: [] };

  const failed = await failedJobsOfRun(queue, run);
  await registry.markRequeued(run, failed.map(({ data }) => data.chunk));
  for (const { job, data } of failed) {
    try {
      await job.retry('failed', resetAttempts);
      result.failedJobs.push(data.chunk);
    } catch (error) {
      // Another operator's retry, or a removal, got there first.
      result.skipped.push(`chunk ${data.chunk}: its job ${job.id} could not be retried (${(error as Error).message})`);
    }
  }
  if (options.items !== true) return result;

  const codes = options.codes === undefined || options.codes.length === 0 ? undefined : new Set(options.codes);
  const retried = new Set(result.failedJobs);
  const chunks: { chunk: number; errors: number; uris: string[] }[] = [];
  for await (const object of readRecordObjects(store, run)) {
    if (retried.has(object.chunk)) continue;
    const errors = object.records.filter((record) => isErrorRecord(record) && (codes === undefined || codes.has(record.error.code))).length;
    if (errors > 0) chunks.push({ chunk: object.chunk, errors, uris: object.records.map((record) => record.uri) });
  }
  if (chunks.length === 0) return result;
  const manifest = await readEnqueuedManifest(store, run);

  for (const { chunk, errors, uris } of chunks) {
    const jobId = jobIdFor(run, chunk);
    const job = await queue.getJob(jobId);
    const state = job === undefined ? 'missing' : await job.getState();
    if (state !== 'completed' && state !== 'missing' && state !== 'unknown') {
      result.skipped.push(`chunk ${chunk}: its job ${jobId} is ${state} already`);
      continue;
    }
    await registry.markRequeued(run, [chunk]);
    if (job !== undefined && state === 'completed') {
      await job.retry('completed', resetAttempts);
    } else {
      const data: JobData = { v: jobPayloadVersion, run, chunk, out: meta.out, uris: manifest.chunks.get(chunk) ?? uris };
      await queue.add(labelJobName, data, { jobId });
      result.readded.push(chunk);
    }
    result.itemChunks.push(chunk);
    result.itemErrors += errors;
  }
  return result;
}

export function formatRetryResult(result: RetryResult): string {
  const lines = [`Run ${result.run}: ${result.failedJobs.length} failed ${result.failedJobs.length === 1 ? 'job' : 'jobs'} sent back to the queue${listOf(result.failedJobs)}.`];
  if (result.itemChunks.length > 0 || result.itemErrors > 0) {
    const readded = result.readded.length > 0 ? ` (${result.readded.length} added again: BullMQ had removed their completed jobs)` : '';
    lines.push(`${result.itemChunks.length} ${result.itemChunks.length === 1 ? 'chunk' : 'chunks'} with ${result.itemErrors} item errors run again${listOf(result.itemChunks)}${readded}.`);
  }
  for (const skipped of result.skipped) lines.push(`Left alone: ${skipped}.`);
  return `${lines.join('\n')}\n`;
}

function listOf(chunks: readonly number[]): string {
  if (chunks.length === 0) return '';
  const shown = chunks.slice(0, 20).join(', ');
  return `: chunks ${shown}${chunks.length > 20 ? `, … (${chunks.length - 20} more)` : ''}`;
}
