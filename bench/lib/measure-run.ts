import { join } from 'node:path';
import type { BenchServices } from './services.ts';
import { enqueue, imagesPerSecondOf, startWorkers, waitForRun, writeManifest, type RunTimes } from './labelq-processes.ts';
import { cpuSecondsOf, machineBusySeconds, memoryMiBOf } from './proc-stats.ts';
import { progress } from './progress.ts';

export interface QueueRunPlan {
  label: string;
  uris: readonly string[];
  chunk: number;
  workers: number;
  /** 'local' = a folder under the bench's work dir; 's3' = the bench bucket. */
  store: 'local' | 's3';
  /** LABELQ_* settings of the workers (LABELQ_DEVICE, LABELQ_BATCH_SIZE, ...). */
  workerEnv: Record<string, string>;
  timeoutMs: number;
}

export interface QueueRunResult {
  label: string;
  images: number;
  chunk: number;
  jobs: number;
  workers: number;
  store: string;
  imagesPerSecond: number;
  seconds: number;
  objectsPerSecond: number;
  itemErrors: number;
  jobsFailed: number;
  /** CPU seconds per wall second while the run went (1.0 = one core busy). */
  redisCpuCores: number;
  workersCpuCores: number;
  machineBusyCores: number;
  workerPeakRssMiB: number;
  workerEnv: Record<string, string>;
}

let runCounter = 0;

/** Starts the workers (waits until ready), enqueues the URIs with the real CLI, waits until every job is done. */
export async function measureQueueRun(services: BenchServices, plan: QueueRunPlan): Promise<QueueRunResult> {
  runCounter += 1;
  const queue = `bench${runCounter}-${Date.now().toString(36)}`;
  const run = `r${runCounter}`;
  const out = plan.store === 's3' ? `s3://${services.bucket ?? 'no-bucket'}/${queue}` : join(services.workDir, 'out', queue);
  if (plan.store === 's3' && services.bucket === undefined) throw new Error(`${plan.label} needs the S3 server: ${services.s3Unavailable}`);
  const manifest = join(services.workDir, `${queue}.txt`);
  await writeManifest(manifest, plan.uris);
  const env = { ...services.env, LABELQ_QUEUE: queue, ...plan.workerEnv };
  progress(`${plan.label}: starting ${plan.workers} worker process(es)`);
  const workers = await startWorkers(env, plan.workers);
  let peakRssMiB = 0;
  const sampleRss = (): void => {
    for (const worker of workers) peakRssMiB = Math.max(peakRssMiB, memoryMiBOf(worker.pid)?.peakRssMiB ?? 0);
  };
  // CPU is counted from the first finished job to the last (a window inside the run, without process start-up
  // or the producer's own start).
  const readCpu = (): { at: number; redis: number; workers: number; machine: number } => ({
    at: performance.now(),
    redis: cpuSecondsOf(services.redis.pid) ?? 0,
    workers: workers.reduce((sum, w) => sum + (cpuSecondsOf(w.pid) ?? 0), 0),
    machine: machineBusySeconds().busy,
  });
  let cpuStart: ReturnType<typeof readCpu> | undefined;
  const onTick = (jobsDone: number): void => {
    sampleRss();
    if (cpuStart === undefined && jobsDone > 0) cpuStart = readCpu();
  };
  let times: RunTimes;
  let usage: { wallSeconds: number; redisCpu: number; workersCpu: number; machineBusy: number };
  try {
    progress(`${plan.label}: enqueuing ${plan.uris.length} URIs in chunks of ${plan.chunk}`);
    await enqueue(env, manifest, { run, chunk: plan.chunk, out });
    times = await waitForRun(services.redis.url, queue, run, undefined, { timeoutMs: plan.timeoutMs, label: plan.label, onTick });
  } finally {
    sampleRss();
    const end = readCpu();
    const start = cpuStart ?? end;
    usage = {
      wallSeconds: Math.max(1e-3, (end.at - start.at) / 1000),
      redisCpu: end.redis - start.redis,
      workersCpu: end.workers - start.workers,
      machineBusy: end.machine - start.machine,
    };
    await Promise.all(workers.map((worker) => worker.stop()));
  }
  const { wallSeconds, redisCpu, workersCpu, machineBusy } = usage;
  const seconds = (times.lastDoneAtMs - times.startedAtMs) / 1000;
  const result: QueueRunResult = {
    label: plan.label,
    images: times.imagesDone,
    chunk: plan.chunk,
    jobs: times.jobsDone,
    workers: plan.workers,
    store: plan.store,
    imagesPerSecond: imagesPerSecondOf(times),
    seconds: Math.round(seconds * 1000) / 1000,
    objectsPerSecond: Math.round((times.jobsDone / seconds) * 100) / 100,
    itemErrors: times.itemErrors,
    jobsFailed: times.jobsFailed,
    redisCpuCores: Math.round((redisCpu / wallSeconds) * 100) / 100,
    workersCpuCores: Math.round((workersCpu / wallSeconds) * 100) / 100,
    machineBusyCores: Math.round((machineBusy / wallSeconds) * 100) / 100,
    workerPeakRssMiB: Math.round(peakRssMiB),
    workerEnv: plan.workerEnv,
  };
  progress(`${plan.label}: ${result.imagesPerSecond} images/s (${result.images} images, ${result.seconds} s, redis ${result.redisCpuCores} cores)`);
  if (result.jobsFailed > 0 || result.itemErrors > 0) {
    progress(`${plan.label}: WARNING ${result.jobsFailed} failed jobs, ${result.itemErrors} error records`);
  }
  return result;
}
