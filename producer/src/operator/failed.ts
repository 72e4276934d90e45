import type { Job } from 'bullmq';
import { isLabelqError } from '@labelq/shared/errors';
import { jobDataSchema, type JobData } from '@labelq/shared/job';
import type { LabelQueue } from '@labelq/shared/queue';
import { isErrorRecord } from '@labelq/shared/record';
import type { RecordStore } from '@labelq/shared/store/record-store';
import { readRecordObjects } from './record-objects.ts';

/** A job of the run in BullMQ's failed set: its attempts are used up, or it failed permanently. */
export interface FailedJob {
  jobId: string;
  chunk: number;
  images: number;
  attemptsMade: number;
  /** BullMQ's failedReason: the last attempt's error, led by its stable code (`STORE_UNAVAILABLE: …`). */
  reason: string;
  failedAtMs: number | undefined;
}

/** An item whose record is an error record. */
export interface FailedItem {
  uri: string;
  chunk: number;
  code: string;
  message: string;
}

export interface FailedReport {
  run: string;
  jobs: FailedJob[];
  items: FailedItem[];
  /** code -> number of items with that code. */
  itemCodes: Record<string, number>;
  /** Record objects that could not be read, as sentences. */
  unreadableObjects: string[];
  /** Why the store could not be read at all (the failed jobs are listed anyway). */
  storeProblem: string | undefined;
}

/** Failed jobs read from Redis per round trip. */
const failedPageSize = 500;

/** The run's jobs in BullMQ's failed set (with their data), in chunk order. */
export async function failedJobsOfRun(queue: LabelQueue, run: string): Promise<{ job: Job<JobData, void, string>; data: JobData }[]> {
  const found: { job: Job<JobData, void, string>; data: JobData }[] = [];
  for (let start = 0; ; start += failedPageSize) {
    const page = await queue.getJobs(['failed'], start, start + failedPageSize - 1, true);
    for (const job of page) {
      if (job === undefined || job === null) continue;
      const parsed = jobDataSchema.safeParse(job.data);
      if (parsed.success && parsed.data.run === run) found.push({ job, data: parsed.data });
    }
    if (page.length < failedPageSize) break;
  }
  return found.sort((a, b) => a.data.chunk - b.data.chunk);
}

/** What failed in a run: the jobs in the failed set and the items with error records. */
export async function listFailed(queue: LabelQueue, store: RecordStore, run: string): Promise<FailedReport> {
  const jobs: FailedJob[] = (await failedJobsOfRun(queue, run)).map(({ job, data }) => ({
    jobId: job.id ?? '',
    chunk: data.chunk,
    images: data.uris.length,
    attemptsMade: job.attemptsMade,
    reason: job.failedReason ?? '',
    failedAtMs: job.finishedOn,
  }));
  const items: FailedItem[] = [];
  const itemCodes: Record<string, number> = {};
  const unreadableObjects: string[] = [];
  let storeProblem: string | undefined;
  try {
    for await (const object of readRecordObjects(store, run)) {
      if (object.problem !== undefined) unreadableObjects.push(object.problem);
      for (const record of object.records) {
        if (!isErrorRecord(record)) continue;
        items.push({ uri: record.uri, chunk: object.chunk, code: record.error.code, message: record.error.message });
        itemCodes[record.error.code] = (itemCodes[record.error.code] ?? 0) + 1;
      }
    }
  } catch (error) {
    if (!isLabelqError(error) || error.code !== 'STORE_UNAVAILABLE') throw error;
    storeProblem = error.message;
  }
  return { run, jobs, items, itemCodes, unreadableObjects, storeProblem };
}

/** The report for a person: failed jobs with their reasons, then failed items by code (the first `shownItems`). */
export function formatFailedReport(report: FailedReport, shownItems: number): string {
  const lines: string[] = [];
  const imagesInJobs = report.jobs.reduce((total, job) => total + job.images, 0);
  lines.push(`Failed jobs of run ${report.run}: ${report.jobs.length}${report.jobs.length > 0 ? ` (${imagesInJobs} images)` : ''}`);
  for (const job of report.jobs) {
    lines.push(`  chunk ${job.chunk} (job ${job.jobId}, ${job.images} images, ${job.attemptsMade} attempts): ${job.reason}`);
  }
  const codes = Object.entries(report.itemCodes).sort(([a], [b]) => a.localeCompare(b));
  const byCode = codes.length === 0 ? '' : ` (${codes.map(([code, count]) => `${code} ${count}`).join(', ')})`;
  lines.push(`Failed images (error records): ${report.items.length}${byCode}`);
  for (const item of report.items.slice(0, shownItems)) lines.push(`  ${item.uri}: ${item.code}: ${item.message}`);
  if (report.items.length > shownItems) lines.push(`  … and ${report.items.length - shownItems} more (--all or --json lists them all)`);
  if (report.storeProblem !== undefined) lines.push(`The records could not be read, so failed images are not listed: ${report.storeProblem}`);
  for (const problem of report.unreadableObjects) lines.push(`Unreadable record object: ${problem}`);
  return `${lines.join('\n')}\n`;
}
