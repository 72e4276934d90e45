import type { Command } from 'commander';
import { loadConfig } from '@labelq/shared/config';
import { createLogger } from '@labelq/shared/logger';
import { LabelqError } from '@labelq/shared/errors';
import { startWorker } from '../worker-process.ts';
import { onShutdownSignal } from './shutdown.ts';

interface WorkerFlags {
  batch?: string;
  maxWaitMs?: string;
  device?: string;
  concurrency?: string;
  model?: string;
  metricsPort?: string;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('Take jobs from the queue and label their images until stopped (SIGTERM/SIGINT stop it cleanly).')
    .option('--batch <n>', 'images per inference batch (LABELQ_BATCH_SIZE)')
    .option('--max-wait-ms <ms>', 'longest wait of an image for its batch to fill (LABELQ_MAX_WAIT_MS)')
    .option('--device <device>', 'auto | cpu | cuda | null (LABELQ_DEVICE)')
    .option('--concurrency <jobs>', 'jobs held at once (LABELQ_CONCURRENCY)')
    .option('--model <card.json>', 'model card (LABELQ_MODEL)')
    .option('--metrics-port <port>', 'serve /metrics, /healthz, /readyz on this port (LABELQ_METRICS_PORT)')
    .action(async (flags: WorkerFlags) => {
      const config = loadConfig({
        batchSize: flags.batch,
        maxWaitMs: flags.maxWaitMs,
        device: flags.device,
        concurrency: flags.concurrency,
        modelCard: flags.model,
        metricsPort: flags.metricsPort,
      });
      if (config.redisUrl === undefined) {
        throw new LabelqError('CONFIG_INVALID', 'labelq worker needs REDIS_URL: the Redis that holds the queue (e.g. redis://127.0.0.1:6379).');
      }
      const log = createLogger('labelq-worker', config.logLevel);
      const worker = await startWorker(config, log, {
        onFatal: () => {
          // Stop taking jobs and exit non-zero, so that the supervisor (systemd, Kubernetes, Compose) restarts us.
          void worker.close().finally(() => process.exit(1));
        },
      });
      log.info({ queue: config.queueName, concurrency: config.concurrency, batchSize: config.batchSize, maxWaitMs: config.maxWaitMs }, 'worker started');
      onShutdownSignal(log, config.shutdownTimeoutMs + 10_000, () => worker.close());
      await new Promise<never>(() => undefined);
    });
}
