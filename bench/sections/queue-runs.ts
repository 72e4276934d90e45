import type { BenchServices } from '../lib/services.ts';
import { measureQueueRun, type QueueRunResult } from '../lib/measure-run.ts';
import { join } from 'node:path';
import { distinctImageUris } from '../lib/sample-images.ts';

/** Synthetic URIs for the null device: valid absolute paths that are never opened. */
export function syntheticUris(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `/labelq-bench/null/img-${String(i).padStart(8, '0')}.jpg`);
}

/**
 * enqueue → `labelq worker` → records in S3, over the sample photographs: the worker as users run it
 * (its defaults, except the device when the bench is given one).
 */
export async function measureEndToEnd(
  services: BenchServices,
  options: { paths: string[]; images: number; workers: number; device: string; batch: number; timeoutMs: number; extraEnv?: Record<string, string>; label?: string },
): Promise<QueueRunResult> {
  return measureQueueRun(services, {
    label: options.label ?? `e2e ${options.workers} worker(s)`,
    uris: await distinctImageUris(options.paths, options.images, join(services.workDir, 'images')),
    chunk: 64,
    workers: options.workers,
    store: services.bucket === undefined ? 'local' : 's3',
    workerEnv: { LABELQ_DEVICE: options.device, LABELQ_BATCH_SIZE: String(options.batch), ...options.extraEnv },
    timeoutMs: options.timeoutMs,
  });
}

/** The design users write first: one image per job, batch size 1, one session.run per image, one job at a time. */
export async function measureNaive(
  services: BenchServices,
  options: { paths: string[]; images: number; device: string; timeoutMs: number },
): Promise<QueueRunResult> {
  return measureQueueRun(services, {
    label: 'naive (chunk 1, batch 1, 1 job at a time)',
    uris: await distinctImageUris(options.paths, options.images, join(services.workDir, 'images')),
    chunk: 1,
    workers: 1,
    store: services.bucket === undefined ? 'local' : 's3',
    workerEnv: { LABELQ_DEVICE: options.device, LABELQ_BATCH_SIZE: '1', LABELQ_CONCURRENCY: '1', LABELQ_MAX_WAIT_MS: '0' },
    timeoutMs: options.timeoutMs,
  });
}

/** Coordination alone: the null device (no fetch, no decode, no model), records to a local folder or S3. */
export async function measureQueueCeiling(
  services: BenchServices,
  options: { images: number; chunk: number; store: 'local' | 's3'; concurrency: number; timeoutMs: number; workers?: number; nullBatchMs?: number; label?: string },
): Promise<QueueRunResult> {
  return measureQueueRun(services, {
    label: options.label ?? `queue ceiling, chunk ${options.chunk}, ${options.workers ?? 1} worker(s), ${options.store}`,
    uris: syntheticUris(options.images),
    chunk: options.chunk,
    workers: options.workers ?? 1,
    store: options.store,
    workerEnv: {
      LABELQ_DEVICE: 'null',
      LABELQ_BATCH_SIZE: '64',
      LABELQ_CONCURRENCY: String(options.concurrency),
      LABELQ_NULL_DEVICE_BATCH_MS: String(options.nullBatchMs ?? 0),
    },
    timeoutMs: options.timeoutMs,
  });
}
