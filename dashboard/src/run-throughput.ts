import type { Redis } from 'ioredis';
import { jobIdFor } from '@labelq/shared/job';

/** Images whose jobs completed within one time bucket. */
export interface ThroughputPoint {
  /** Start of the bucket, ms since the epoch. */
  atMs: number;
  images: number;
}

export interface RunThroughput {
  bucketMs: number;
  points: ThroughputPoint[];
  /** Completed jobs found in Redis (BullMQ keeps completed jobs 7 days, at most 100,000 per queue). */
  jobsCounted: number;
}

/** Jobs asked about per Redis round trip. */
const jobsPerPipeline = 1_000;
/** Largest number of jobs looked at for one chart. */
export const maxJobsCharted = 50_000;
const bucketChoicesMs = [1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000];

/**
 * Images labelled over time for a run: each completed job of the run counts its images (BullMQ's `returnvalue`,
 * `{ images, errors }`) at the time it finished (`finishedOn`), in about `targetBuckets` buckets of a round width.
 * `jobKey(jobId)` is the job's hash key (BullMQ's `queue.toKey(jobId)`); chunks are 0 … jobs-1.
 */
export async function runThroughput(redis: Redis, jobKey: (jobId: string) => string, run: string, jobs: number, targetBuckets = 60): Promise<RunThroughput> {
  const finished: { atMs: number; images: number }[] = [];
  const counted = Math.min(jobs, maxJobsCharted);
  for (let first = 0; first < counted; first += jobsPerPipeline) {
    const pipeline = redis.pipeline();
    const last = Math.min(counted, first + jobsPerPipeline);
    for (let chunk = first; chunk < last; chunk++) pipeline.hmget(jobKey(jobIdFor(run, chunk)), 'finishedOn', 'returnvalue');
    const replies = (await pipeline.exec()) ?? [];
    for (const [error, value] of replies) {
      if (error !== null) throw error;
      const [finishedOn, returnValue] = value as [string | null, string | null];
      if (finishedOn === null || returnValue === null) continue;
      const images = imagesOf(returnValue);
      if (images !== undefined) finished.push({ atMs: Number(finishedOn), images });
    }
  }
  if (finished.length === 0) return { bucketMs: bucketChoicesMs[0]!, points: [], jobsCounted: 0 };
  const firstMs = Math.min(...finished.map((job) => job.atMs));
  const lastMs = Math.max(...finished.map((job) => job.atMs));
  const bucketMs = bucketChoicesMs.find((width) => (lastMs - firstMs) / width < targetBuckets) ?? bucketChoicesMs.at(-1)!;
  const startMs = Math.floor(firstMs / bucketMs) * bucketMs;
  const points: ThroughputPoint[] = [];
  for (let atMs = startMs; atMs <= lastMs; atMs += bucketMs) points.push({ atMs, images: 0 });
  for (const job of finished) points[Math.floor((job.atMs - startMs) / bucketMs)]!.images += job.images;
  return { bucketMs, points, jobsCounted: finished.length };
}

function imagesOf(returnValue: string): number | undefined {
  try {
    const value = JSON.parse(returnValue) as { images?: unknown };
    return typeof value.images === 'number' ? value.images : undefined;
  } catch {
    return undefined;
  }
}
