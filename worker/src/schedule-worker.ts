import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '@labelq/shared/config';
import { isLabelqError } from '@labelq/shared/errors';
import type { Logger } from '@labelq/shared/logger';
import type { ModelIdentity } from '@labelq/shared/model-card';
import { createLabelQueue } from '@labelq/shared/queue';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { RunRegistry } from '@labelq/shared/run-registry';
import { fireSchedule } from '@labelq/producer/schedule/fire-schedule';
import { scheduleDefinitionSchema } from '@labelq/producer/schedule/schedule-definition';
import { ScheduleHistory } from '@labelq/producer/schedule/schedule-history';
import { createScheduleQueue, oneFiringAtATime, schedulesQueueName, type FiringResult } from '@labelq/producer/schedule/schedule-queue';

/** How long close() lets a firing in flight finish before handing it back, in ms. */
export const firingShutdownGraceMs = 5_000;

export interface ScheduleWorkerOptions {
  config: Config;
  log: Logger;
  /** The model this worker process labels with: a firing of a schedule for another model fails. */
  model: ModelIdentity;
  s3: () => S3Client;
}

export interface RunningScheduleWorker {
  readonly bullWorker: Worker;
  close(): Promise<void>;
}

/**
 * Consumes `<LABELQ_QUEUE>-schedules` with concurrency 1: each job is one firing of a schedule (made by its BullMQ
 * job scheduler), which lists the schedule's source and enqueues what is new as a run on the labelling queue
 * (producer/src/schedule/fire-schedule.ts). Global concurrency 1 on that queue keeps firings one at a time
 * across every worker process. Started by every `labelq worker`, so schedules need no other daemon.
 */
export async function startScheduleWorker(options: ScheduleWorkerOptions): Promise<RunningScheduleWorker> {
  const { config, log } = options;
  if (config.redisUrl === undefined) throw new Error('startScheduleWorker needs config.redisUrl');
  const commandConnection = createRedisConnection(config.redisUrl, 'worker');
  const labelQueue = createLabelQueue(config, commandConnection);
  const scheduleQueue = createScheduleQueue(config, commandConnection);
  await oneFiringAtATime(scheduleQueue);
  const registry = new RunRegistry(commandConnection, config.bullPrefix, config.queueName);
  const history = new ScheduleHistory(commandConnection, config.bullPrefix, config.queueName);

  const processFiring = async (job: Job): Promise<FiringResult> => {
    const definition = scheduleDefinitionSchema.safeParse(job.data);
    if (!definition.success) {
      throw new UnrecoverableError(`JOB_PAYLOAD_INVALID: the firing ${job.id} does not hold a schedule this worker can read: ${definition.error.issues[0]?.message ?? 'invalid'}.`);
    }
    if ((await scheduleQueue.getJobScheduler(definition.data.name)) === undefined) {
      log.info({ schedule: definition.data.name, firing: job.id }, 'the schedule was removed: firing skipped');
      return { schedule: definition.data.name, run: undefined, listed: 0, enqueued: 0 };
    }
    // prevMillis is when the firing was due: the same for every attempt of this firing.
    const firedAtMs = typeof job.opts.prevMillis === 'number' ? job.opts.prevMillis : job.timestamp;
    try {
      return await fireSchedule(definition.data, firedAtMs, { queue: labelQueue, registry, history, s3: options.s3, log, workerModel: options.model });
    } catch (error) {
      if (isLabelqError(error) && (error.kind === 'job-permanent' || error.kind === 'fatal')) {
        throw new UnrecoverableError(`${error.code}: ${error.message}`);
      }
      throw error;
    }
  };

  const workerConnection = createRedisConnection(config.redisUrl, 'worker');
  const bullWorker = new Worker(schedulesQueueName(config), processFiring, {
    connection: workerConnection,
    prefix: config.bullPrefix,
    concurrency: 1,
    lockDuration: config.lockDurationMs,
    stalledInterval: config.stalledIntervalMs,
    maxStalledCount: config.maxStalledCount,
    autorun: true,
  });
  bullWorker.on('failed', (job: Job | undefined, error: Error) => {
    log.error({ firing: job?.id, schedule: job?.repeatJobKey, error: error.message }, 'a schedule firing failed');
  });
  bullWorker.on('error', (error) => log.error({ error: error.message }, 'BullMQ schedule worker error'));

  let closing: Promise<void> | undefined;
  return {
    bullWorker,
    close() {
      closing ??= (async () => {
        const graceful = bullWorker.close();
        const finished = await Promise.race([
          graceful.then(() => true),
          new Promise<boolean>((done) => setTimeout(() => done(false), firingShutdownGraceMs).unref()),
        ]);
        // A firing cut short comes back after its lock expires and enqueues into the same run.
        if (!finished) await bullWorker.close(true);
        await scheduleQueue.close();
        await labelQueue.close();
        await commandConnection.quit().catch(() => undefined);
        await workerConnection.quit().catch(() => undefined);
      })();
      return closing;
    },
  };
}
