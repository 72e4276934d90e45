import { dirname, resolve } from 'node:path';
import { availableParallelism, hostname } from 'node:os';
import { MetricsTime, Worker, type Job } from 'bullmq';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '@labelq/shared/config';
import { readModelCard } from '@labelq/shared/model-card';
import { isLabelqError } from '@labelq/shared/errors';
import { jobDataSchema } from '@labelq/shared/job';
import type { Logger } from '@labelq/shared/logger';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { RunRegistry } from '@labelq/shared/run-registry';
import { createS3Client, s3SettingsFromConfig } from '@labelq/shared/s3-client';
import { openStore } from '@labelq/shared/store/open-store';
import type { RecordStore } from '@labelq/shared/store/record-store';
import { defaultStoreRetryPolicy, withStoreRetries } from '@labelq/shared/store/transient-retry';
import { DynamicBatcher } from './batcher.ts';
import { InferenceEngine } from './inference/inference-engine.ts';
import { createJobProcessor } from './job-processor.ts';
import { checkModelAgainstCard } from './model/check-card.ts';
import { createPreprocessor } from './preprocess/preprocessor.ts';
import { applySharpSettings, threadpoolShortfall } from './preprocess/sharp-settings.ts';
import { createItemFetcher } from './fetch/fetch-item.ts';
import { createS3ItemFetcher } from './s3-item-fetcher.ts';
import { WorkerMetrics } from './worker-metrics.ts';
import { modelCardPathOf } from './default-model.ts';
import { serveMetrics, WorkerReadiness, type MetricsServer } from './metrics-server.ts';
import { startScheduleWorker } from './schedule-worker.ts';

export interface RunningWorker {
  readonly deviceInUse: 'cpu' | 'cuda' | 'null';
  readonly metrics: WorkerMetrics;
  readonly bullWorker: Worker;
  /** Stops taking jobs, lets those in flight finish for up to shutdownTimeoutMs, then hands the rest back. */
  close(): Promise<void>;
}

/** s3 settings from the config, shared by the fetcher and the stores of this process. */
export function s3ClientFromConfig(config: Config): S3Client {
  return createS3Client(s3SettingsFromConfig(config, config.fetchTimeoutMs));
}

function isSourceUnavailable(error: unknown): boolean {
  return isLabelqError(error) && error.code === 'SOURCE_UNAVAILABLE';
}

/** After the shutdown deadline, how long the jobs in flight get to move themselves back to the wait list, in ms. */
export const handBackTimeoutMs = 5_000;

export interface WorkerHooks {
  /** The worker cannot go on (its inference thread died): the process should close it and exit non-zero. */
  onFatal?: (error: Error) => void;
}

/**
 * Starts one worker process's machinery: model card check, inference thread (one session), batcher,
 * fetchers, stores and the BullMQ Worker. Resources are released in reverse order by close().
 */
export async function startWorker(config: Config, log: Logger, hooks: WorkerHooks = {}): Promise<RunningWorker> {
  if (config.redisUrl === undefined) throw new Error('startWorker needs config.redisUrl');
  const metrics = new WorkerMetrics();
  const readiness = new WorkerReadiness();
  // Served first, so that /healthz answers and /readyz says 503 (and why) while the model loads.
  let metricsServer: MetricsServer | undefined;
  if (config.metricsPort !== 0) {
    metricsServer = await serveMetrics({
      port: config.metricsPort,
      metrics,
      readiness,
      queue: { redisUrl: config.redisUrl, queueName: config.queueName, bullPrefix: config.bullPrefix },
    });
    log.info({ port: metricsServer.port }, 'metrics served on /metrics, /healthz, /readyz');
  }
  try {
    return await startWorkerParts({ ...config, redisUrl: config.redisUrl }, log, hooks, metrics, readiness, metricsServer);
  } catch (error) {
    await metricsServer?.close();
    throw error;
  }
}

async function startWorkerParts(
  config: Config & { redisUrl: string },
  log: Logger,
  hooks: WorkerHooks,
  metrics: WorkerMetrics,
  readiness: WorkerReadiness,
  metricsServer: MetricsServer | undefined,
): Promise<RunningWorker> {
  const cardPath = modelCardPathOf(config);
  const card = await readModelCard(cardPath);
  const modelPath = resolve(dirname(cardPath), card.file);
  if (config.device !== 'null') await checkModelAgainstCard(modelPath, card);

  const intraOpThreads = config.intraOpThreads === 0 ? availableParallelism() : config.intraOpThreads;
  const engine = await InferenceEngine.start({
    modelPath,
    card,
    settings: { device: config.device, cudaDeviceId: config.cudaDeviceId, intraOpThreads, interOpThreads: 1 },
    topK: config.topK,
    maxBatchSize: config.batchSize,
    nullDeviceBatchMs: config.nullDeviceBatchMs,
  });
  metrics.executionProvider(engine.deviceInUse, engine.fallbackReason !== undefined);
  readiness.markModelLoaded();
  engine.onDeath((error) => {
    log.fatal({ error: error.message }, 'the inference thread died: this worker takes no more jobs; its jobs in flight will be retried');
    hooks.onFatal?.(error);
  });
  if (engine.fallbackReason !== undefined) {
    log.warn(
      { device: engine.deviceInUse, requested: config.device, reason: engine.fallbackReason },
      'CUDA IS NOT AVAILABLE: FALLING BACK TO CPU. Inference will be much slower. Use --device cuda to make this an error.',
    );
  }
  log.info(
    { device: engine.deviceInUse, model: card.name, sha256: card.sha256, sessionOpenMs: Math.round(engine.sessionOpenMs), intraOpThreads },
    'inference ready',
  );

  // The null device (benchmarks only) measures coordination alone: its crops carry no pixels to copy.
  const cropBytes = config.device === 'null' ? 0 : card.input.height * card.input.width * 3;
  const nullDeviceBytes = Buffer.alloc(0);
  const nullDeviceCrop = new Uint8Array(0);
  const batcher = new DynamicBatcher({
    batchSize: config.batchSize,
    maxWaitMs: config.maxWaitMs,
    cropBytes,
    topK: config.topK,
    maxBatchesInFlight: 2,
    runBatch: (crops, count) => engine.runBatch(crops, count),
    onBatch: ({ count, inferenceMs }) => metrics.batch(count, inferenceMs / 1000),
  });

  let s3Client: S3Client | undefined;
  const s3 = (): S3Client => (s3Client ??= s3ClientFromConfig(config));
  const stores = new Map<string, RecordStore>();
  const storeRetry = { ...defaultStoreRetryPolicy, attempts: config.storeRetryAttempts, firstDelayMs: config.storeRetryFirstDelayMs };
  const storeFor = (out: string): RecordStore => {
    let store = stores.get(out);
    if (store === undefined) stores.set(out, (store = openStore(out, s3, storeRetry)));
    return store;
  };
  const limits = { maxImageBytes: config.maxImageBytes, timeoutMs: config.fetchTimeoutMs, maxRedirects: config.maxRedirects };
  let s3ItemFetcher: ReturnType<typeof createS3ItemFetcher> | undefined;
  const fetcher = createItemFetcher({
    s3: {
      // An object store that does not answer (SOURCE_UNAVAILABLE) is tried again like the record store is, so a
      // short outage costs a wait, not a job attempt; not-found, forbidden and timeouts stay item errors.
      fetch: (uri, signal) =>
        withStoreRetries(storeRetry, () => {
          signal?.throwIfAborted();
          return (s3ItemFetcher ??= createS3ItemFetcher(s3(), { ...limits, allowedBuckets: config.s3AllowedBuckets })).fetch(uri, signal);
        }, undefined, isSourceUnavailable),
    },
    limits,
    http: { allowedHosts: config.httpAllowedHosts },
  });
  applySharpSettings();
  const decodeConcurrency = config.decodeConcurrency === 0 ? availableParallelism() : config.decodeConcurrency;
  const shortfall = threadpoolShortfall(decodeConcurrency);
  if (shortfall !== undefined) log.warn({ decodeConcurrency }, shortfall);
  const preprocessor = createPreprocessor(card, { maxInputPixels: config.maxInputPixels });

  const commandConnection = createRedisConnection(config.redisUrl, 'worker');
  const registry = new RunRegistry(commandConnection, config.bullPrefix, config.queueName);
  const processJob = createJobProcessor({
    card,
    model: { name: card.name, sha256: card.sha256 },
    // The null device (benchmarks only) measures the queue alone: no fetch, no decode, an empty crop.
    fetchItem: config.device === 'null' ? async () => nullDeviceBytes : (uri, signal) => fetcher.fetch(uri, signal),
    decodeCrop: config.device === 'null' ? async () => nullDeviceCrop : (bytes) => preprocessor.decodeCrop(bytes),
    infer: (crop) => batcher.add(crop),
    storeFor,
    registry,
    metrics,
    log,
    fetchConcurrency: config.fetchConcurrency,
    decodeConcurrency,
  });

  const workerConnection = createRedisConnection(config.redisUrl, 'worker');
  const bullWorker = new Worker(config.queueName, processJob, {
    connection: workerConnection,
    prefix: config.bullPrefix,
    // Recorded on each job as processedBy: which worker process labelled it.
    name: `labelq-worker@${hostname()}:${process.pid}`,
    concurrency: config.concurrency,
    lockDuration: config.lockDurationMs,
    stalledInterval: config.stalledIntervalMs,
    maxStalledCount: config.maxStalledCount,
    autorun: true,
    // Per-minute completed/failed counts in Redis: bullmq_job_completed_total and _failed_total count from them.
    metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
  });
  bullWorker.on('failed', (job: Job | undefined, error: Error) => {
    if (job === undefined) return;
    const attempts = job.opts.attempts ?? 1;
    const final = job.finishedOn !== undefined || job.attemptsMade >= attempts || error.name === 'UnrecoverableError';
    if (!final) return;
    const data = jobDataSchema.safeParse(job.data);
    if (!data.success) return;
    registry.markFailed(data.data.run, data.data.chunk, error.message).catch((markError: unknown) => {
      log.error({ job: job.id, error: String(markError) }, 'could not record the failed job in the run registry');
    });
  });
  bullWorker.on('error', (error) => log.error({ error: error.message }, 'BullMQ worker error'));

  readiness.watch(bullWorker, [commandConnection, workerConnection]);
  const scheduleWorker = await startScheduleWorker({ config, log, model: { name: card.name, sha256: card.sha256 }, s3 }); // firings of `labelq schedule`

  let closing: Promise<void> | undefined;
  return {
    deviceInUse: engine.deviceInUse,
    metrics,
    bullWorker,
    close() {
      closing ??= (async () => {
        const graceful = bullWorker.close();
        const timedOut = await Promise.race([
          graceful.then(() => false),
          new Promise<boolean>((done) => setTimeout(() => done(true), config.shutdownTimeoutMs).unref()),
        ]);
        if (timedOut) {
          log.warn({ shutdownTimeoutMs: config.shutdownTimeoutMs }, 'jobs still in flight at the shutdown deadline: handing them back');
          // Each processor hears its job's abort signal, moves the job back to the wait list (no attempt used, no
          // wait for the lock to expire) and ends; the batcher refuses the images still waiting.
          bullWorker.cancelAllJobs('the worker is shutting down');
          batcher.close();
          const handedBack = await Promise.race([
            graceful.then(() => true),
            new Promise<boolean>((done) => setTimeout(() => done(false), handBackTimeoutMs).unref()),
          ]);
          if (!handedBack) log.error({ handBackTimeoutMs }, 'jobs could not be handed back in time (Redis away?); they return when their locks expire');
        } else {
          batcher.close();
        }
        await scheduleWorker.close();
        await engine.close();
        await metricsServer?.close();
        s3Client?.destroy();
        await commandConnection.quit().catch(() => undefined);
        // BullMQ does not close a connection it was given.
        await workerConnection.quit().catch(() => undefined);
      })();
      return closing;
    },
  };
}
