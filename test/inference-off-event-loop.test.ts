import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@labelq/shared/config';
import { jobIdFor, jobPayloadVersion, labelJobName, type JobData } from '@labelq/shared/job';
import { createLogger } from '@labelq/shared/logger';
import { readModelCard, type ModelCard } from '@labelq/shared/model-card';
import { createLabelQueue } from '@labelq/shared/queue';
import { recordSchema } from '@labelq/shared/record';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { RunRegistry } from '@labelq/shared/run-registry';
import { normaliseStoreUrl } from '@labelq/shared/store/open-store';
import { recordKey } from '@labelq/shared/store/record-store';
import { openSession } from '@labelq/worker/inference/session';
import { startWorker } from '@labelq/worker/worker-process';
import { freshName, missingTestServices, repoRoot, sharedDataDir, testRedisUrl } from './harness/services.ts';
import { formatEventLoopDelay, watchEventLoopDelay } from './support/event-loop-delay.ts';

/**
 * ONNX Runtime's session.run() is synchronous native code: on the main thread it would stop the event loop for
 * the whole batch, BullMQ could not renew the job's lock, and another worker would take the job while it is
 * still being labelled. The worker runs inference on its own thread (worker/src/inference/inference-thread.ts).
 * This proves it on the real model and real images: one job (96 images or more) whose inference on 2 cores
 * lasts many times a short lock, yet the lock is renewed throughout, the job completes on its first attempt
 * and the main thread's event loop never stalls. The control runs the same model on the main thread inside a
 * BullMQ job with the same lock: the same measurements then show the stall, and the job loses its lock.
 */
const missingRedis = missingTestServices('redis');
const modelCardPath = resolve(repoRoot, 'models/resnet50-keras.json');
const imagesDir = join(sharedDataDir(), 'imagenet-sample');
const skipReason =
  missingRedis ??
  (!existsSync(modelCardPath) ? `the converted model ${modelCardPath} is missing (run \`npx labelq model fetch\`)` : undefined) ??
  (!existsSync(imagesDir) ? `the test images ${imagesDir} are missing` : undefined);

// A short lock, so that one missed renewal shows: BullMQ renews about every lockDurationMs / 2 (1 s), so a stall
// of the main thread under 1 s is always safe, one over 2 s always loses the lock, and with maxStalledCount 0
// and one attempt the job then fails instead of being retried.
const lockDurationMs = 2000;
const stalledIntervalMs = 1000;
const batchSize = 32;
const intraOpThreads = 2;
// The job is sized so that inference takes about 5 locks (at least 3 are asserted): 96 images at the least,
// more on a fast CPU, from one batch timed beforehand with the worker's session settings.
const targetInferenceMs = 5 * lockDurationMs;
const minImagesPerJob = 96;
const maxImagesPerJob = 480;
// Bounds on the main thread's event-loop delay while the job runs (the loop ticks every 10 ms when free).
// Measured on a 2-core machine, idle to heavily loaded (busy loops, the e2e test beside it), over 20 runs:
// p99 15-106 ms, max 22-128 ms (mostly one GC pause) with one outlier of 830 ms; inference on the main thread
// reads 3-20 s. maxDelayMs is the longest stall that can never cost the lock (see above).
const delayResolutionMs = 10;
const maxP99DelayMs = 200;
const maxDelayMs = 1000;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  // Last opened, first closed; every step runs even if an earlier one fails.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => console.warn('cleanup failed:', error));
});

function sampleImages(count: number): string[] {
  const files = readdirSync(imagesDir)
    .filter((name) => name.endsWith('.JPEG'))
    .sort();
  if (files.length < count) throw new Error(`${imagesDir} holds ${files.length} JPEG images; this test needs ${count}.`);
  return files.slice(0, count).map((name) => join(imagesDir, name));
}

/** Runs `count` batches of zeros through a session; the time of each, in ms. */
async function runZeroBatches(session: ort.InferenceSession, card: ModelCard, count: number): Promise<number[]> {
  const { height, width } = card.input;
  const shape = card.input.layout === 'NCHW' ? [batchSize, 3, height, width] : [batchSize, height, width, 3];
  const zeros = new ort.Tensor('float32', new Float32Array(batchSize * 3 * height * width), shape);
  const runMs: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const outputs = await session.run({ [card.input.name]: zeros });
    runMs.push(performance.now() - started);
    for (const output of Object.values(outputs)) output.dispose();
  }
  return runMs;
}

async function openModel(threads: number): Promise<{ card: ModelCard; session: ort.InferenceSession }> {
  const card = await readModelCard(modelCardPath);
  const settings = { device: 'cpu', cudaDeviceId: 0, intraOpThreads: threads, interOpThreads: 1 } as const;
  const { session } = await openSession(resolve(modelCardPath, '..', card.file), settings);
  return { card, session };
}

/** Images per job for about `targetInferenceMs` of inference, from one batch timed with the worker's settings. */
async function imagesForTargetInference(): Promise<{ images: number; batchMs: number }> {
  const { card, session } = await openModel(intraOpThreads);
  try {
    const [batchMs = 0] = await runZeroBatches(session, card, 1);
    const batches = Math.ceil(targetInferenceMs / batchMs);
    return { images: Math.min(maxImagesPerJob, Math.max(minImagesPerJob, batches * batchSize)), batchMs };
  } finally {
    await session.release();
  }
}

/** Polls the job's BullMQ lock key every 100 ms: when it was seen, and when it was missing. */
function watchLock(redis: Redis, lockKey: string): { stop(): Promise<{ presentAtMs: number[]; missingAtMs: number[] }> } {
  const presentAtMs: number[] = [];
  const missingAtMs: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const ttlMs = await redis.pttl(lockKey);
      (ttlMs > 0 ? presentAtMs : missingAtMs).push(performance.now());
      await sleep(100);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { presentAtMs, missingAtMs };
    },
  };
}

describe.skipIf(skipReason !== undefined)(`inference runs off the worker's event loop ${skipReason ?? ''}`, () => {
  it(
    `one job whose inference outlasts the ${lockDurationMs} ms lock several times completes on its first attempt while the event loop stays free`,
    { timeout: 180_000 },
    async () => {
      const redisUrl = testRedisUrl();
      const queueName = freshName('off-loop');
      const config = loadConfig(
        {
          device: 'cpu',
          batchSize,
          concurrency: 1,
          intraOpThreads,
          lockDurationMs,
          stalledIntervalMs,
          maxStalledCount: 0,
          jobAttempts: 1,
          shutdownTimeoutMs: 10_000,
        },
        { REDIS_URL: redisUrl, LABELQ_QUEUE: queueName },
      );
      const outDir = await mkdtemp(join(tmpdir(), 'labelq-off-loop-'));
      cleanups.push(() => rm(outDir, { recursive: true, force: true }));
      const out = normaliseStoreUrl(outDir);
      const run = 'off-loop';
      const sizing = await imagesForTargetInference();
      const imagesPerJob = sizing.images;
      const uris = sampleImages(imagesPerJob);
      const jobId = jobIdFor(run, 0);

      // The queue first, so that it is cleaned up (obliterated) after the worker has closed.
      const queueConnection = createRedisConnection(redisUrl, 'queue');
      cleanups.push(() => queueConnection.quit());
      const queue = createLabelQueue(config, queueConnection);
      cleanups.push(() => queue.close());
      cleanups.push(() => queue.obliterate({ force: true }));
      await queue.waitUntilReady();

      const worker = await startWorker(config, createLogger('labelq-worker', 'warn'));
      cleanups.push(() => worker.close());
      expect(worker.deviceInUse).toBe('cpu');

      // Everything the worker and the queue's event stream say about the job.
      const workerEvents: string[] = [];
      let renewals = 0;
      let activeAtMs: number | undefined;
      const finished = new Promise<number>((resolveFinished, rejectFinished) => {
        worker.bullWorker.on('active', () => (activeAtMs = performance.now()));
        worker.bullWorker.on('completed', (job) => {
          workerEvents.push(`completed ${job.id}`);
          resolveFinished(performance.now());
        });
        worker.bullWorker.on('failed', (job, error) => {
          workerEvents.push(`failed ${job?.id}: ${error.message}`);
          rejectFinished(new Error(`The job failed: ${error.message} (worker events: ${workerEvents.join('; ')})`));
        });
      });
      finished.catch(() => undefined);
      worker.bullWorker.on('stalled', (id) => workerEvents.push(`stalled ${id}`));
      worker.bullWorker.on('lockRenewalFailed', (ids) => workerEvents.push(`lockRenewalFailed ${ids.join(',')}`));
      worker.bullWorker.on('error', (error) => workerEvents.push(`error: ${error.message}`));
      worker.bullWorker.on('locksRenewed', ({ count }) => (renewals += count));

      const eventsConnection = createRedisConnection(redisUrl, 'worker');
      cleanups.push(() => eventsConnection.quit());
      // A fresh queue: read its event stream from the start, so nothing is missed before the first read.
      const queueEvents = new QueueEvents(queueName, { connection: eventsConnection, prefix: config.bullPrefix, lastEventId: '0' });
      cleanups.push(() => queueEvents.close());
      const streamEvents: string[] = [];
      const streamCompleted = new Promise<void>((resolveCompleted) => {
        queueEvents.on('completed', ({ jobId: id }) => {
          streamEvents.push(`completed ${id}`);
          resolveCompleted();
        });
      });
      queueEvents.on('stalled', ({ jobId: id }) => streamEvents.push(`stalled ${id}`));
      queueEvents.on('failed', ({ jobId: id, failedReason }) => streamEvents.push(`failed ${id}: ${failedReason}`));
      await queueEvents.waitUntilReady();

      // Enqueue the way the producer does: register the run, add the job, register its chunk.
      const registry = new RunRegistry(queueConnection, config.bullPrefix, config.queueName);
      await registry.registerRun({ run, source: 'test: imagenet-sample', out, chunkSize: imagesPerJob, createdAtMs: Date.now() });
      const lockConnection = createRedisConnection(redisUrl, 'command');
      cleanups.push(() => lockConnection.quit());
      const lock = watchLock(lockConnection, `${config.bullPrefix}:${queueName}:${jobId}:lock`);
      cleanups.push(() => lock.stop());
      const delayWatch = await watchEventLoopDelay(delayResolutionMs);
      cleanups.push(() => delayWatch.stop());
      const data: JobData = { v: jobPayloadVersion, run, chunk: 0, out, uris };
      await queue.add(labelJobName, data, { jobId });
      await registry.registerChunks(run, [{ chunk: 0, count: uris.length }]);

      const completedAtMs = await finished;
      const delay = await delayWatch.stop();
      const lockSeen = await lock.stop();
      await Promise.race([streamCompleted, sleep(5000, undefined, { ref: false })]);

      const startedAtMs = activeAtMs ?? Number.NaN;
      const jobMs = completedAtMs - startedAtMs;
      const stages = await worker.metrics.registry.getSingleMetric('labelq_stage_seconds')?.get();
      const inferenceSum = stages?.values.find((v) => 'metricName' in v && v.metricName === 'labelq_stage_seconds_sum' && v.labels['stage'] === 'inference');
      const inferenceSeconds = inferenceSum?.value ?? 0;
      const inferenceMs = inferenceSeconds * 1000;
      console.log(
        `off-loop: ${imagesPerJob} images (one batch timed at ${Math.round(sizing.batchMs)} ms beforehand); job ${Math.round(jobMs)} ms, ` +
          `inference ${Math.round(inferenceMs)} ms in ${Math.ceil(imagesPerJob / batchSize)} batches of ${batchSize}, ` +
          `lock ${lockDurationMs} ms renewed ${renewals} times; main event loop delay ${formatEventLoopDelay(delay)}`,
      );

      // The precondition: inference alone outlasts the lock several times over.
      expect(inferenceMs).toBeGreaterThan(3 * lockDurationMs);

      // The job completed on its first attempt; nothing stalled, failed or lost its lock.
      expect(workerEvents).toEqual([`completed ${jobId}`]);
      expect(streamEvents).toEqual([`completed ${jobId}`]);
      const job = await queue.getJob(jobId);
      expect(await job?.getState()).toBe('completed');
      // BullMQ 6 counts the finished attempt too: one started, one made, never stalled.
      expect(job?.attemptsStarted).toBe(1);
      expect(job?.attemptsMade).toBe(1);
      expect(job?.stalledCounter).toBe(0);
      expect(job?.returnvalue).toEqual({ images: imagesPerJob, errors: 0 });
      expect(renewals).toBeGreaterThanOrEqual(Math.floor(jobMs / lockDurationMs));

      // The lock was held throughout: seen long after it would have expired unrenewed, never missing in between.
      const whileActive = (at: number): boolean => at > startedAtMs && at < completedAtMs;
      const lastSeenMs = Math.max(...lockSeen.presentAtMs) - startedAtMs;
      expect(lastSeenMs).toBeGreaterThan(2 * lockDurationMs);
      const firstSeen = Math.min(...lockSeen.presentAtMs.filter(whileActive));
      const lastSeen = Math.max(...lockSeen.presentAtMs.filter(whileActive));
      expect(lockSeen.missingAtMs.filter((at) => at > firstSeen && at < lastSeen)).toEqual([]);

      // The main thread's event loop never stalled for long.
      expect(delay.p99Ms).toBeLessThan(maxP99DelayMs);
      expect(delay.maxMs).toBeLessThan(maxDelayMs);

      // One record per image, every one labelled.
      const records = (await readFile(join(outDir, ...recordKey(run, 0).split('/')), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => recordSchema.parse(JSON.parse(line)));
      expect(records).toHaveLength(imagesPerJob);
      expect(records.filter((record) => 'error' in record)).toEqual([]);
      expect(new Set(records.map((record) => record.uri))).toEqual(new Set(uris));
    },
  );

  it(
    `control: session.run on the main thread, inside a BullMQ job with the same lock, stalls the event loop past ${maxDelayMs} ms and loses the lock`,
    { timeout: 180_000 },
    async () => {
      const redisUrl = testRedisUrl();
      const queueName = freshName('on-loop');
      // One intra-op thread makes each blocking call longer, so that it outlasts the bound on a fast CPU too.
      const { card, session } = await openModel(1);
      cleanups.push(() => session.release());
      const queueConnection = createRedisConnection(redisUrl, 'queue');
      cleanups.push(() => queueConnection.quit());
      const queue = new Queue(queueName, { connection: queueConnection });
      cleanups.push(() => queue.close());
      cleanups.push(() => queue.obliterate({ force: true }));

      let runMs: number[] = [];
      const events: string[] = [];
      const workerConnection = createRedisConnection(redisUrl, 'worker');
      cleanups.push(() => workerConnection.quit());
      const worker = new Worker(
        queueName,
        async () => {
          runMs = await runZeroBatches(session, card, 2);
        },
        { connection: workerConnection, lockDuration: lockDurationMs, stalledInterval: stalledIntervalMs, maxStalledCount: 0 },
      );
      cleanups.push(() => worker.close(true));
      const ended = new Promise<void>((resolveEnded) => {
        worker.on('completed', () => {
          events.push('completed');
          resolveEnded();
        });
        worker.on('failed', (_job, error) => {
          events.push(`failed: ${error.message}`);
          resolveEnded();
        });
      });
      worker.on('stalled', () => events.push('stalled'));
      worker.on('error', (error) => events.push(`error: ${error.message}`));
      await worker.waitUntilReady();

      const delayWatch = await watchEventLoopDelay(delayResolutionMs);
      cleanups.push(() => delayWatch.stop());
      await queue.add('on-loop', {}, { jobId: 'on-loop', attempts: 1 });
      await Promise.race([ended, sleep(60_000, undefined, { ref: false })]);
      const delay = await delayWatch.stop();
      console.log(
        `control: session.run on the main thread took ${runMs.map(Math.round).join(', ')} ms; event loop delay ${formatEventLoopDelay(delay)}; ` +
          `BullMQ: ${events.join('; ')}`,
      );

      // The measurement sees the whole block, and the block is far above the bound the worker stays under.
      expect(runMs).toHaveLength(2);
      expect(delay.maxMs).toBeGreaterThan(0.9 * Math.max(...runMs));
      expect(delay.maxMs).toBeGreaterThan(maxDelayMs);
      // A block longer than the lock cannot keep it: the job does not complete cleanly, as the first test requires.
      if (Math.max(...runMs) > lockDurationMs) expect(events).not.toEqual(['completed']);
    },
  );
});
