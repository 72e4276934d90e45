import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import type { JobData } from './job.ts';

export type LabelQueue = Queue<JobData, void, string>;

/** Completed jobs are kept this long (the records live in the store; the run registry remembers chunks). */
export const completedJobsKeptMs = 7 * 24 * 60 * 60 * 1000;
export const completedJobsKeptCount = 100_000;

/**
 * The BullMQ queue of labelling jobs. Pass a connection made with `createRedisConnection(url, 'queue')` (adding
 * jobs fails fast while Redis is away) or `'worker'`; the queue does not close a connection it was given.
 * Failed jobs stay in the failed set (`removeOnFail: false`) so that `labelq status` can show why.
 */
export function createLabelQueue(
  config: Pick<Config, 'queueName' | 'bullPrefix' | 'jobAttempts' | 'jobBackoffMs'>,
  connection: Redis,
): LabelQueue {
  const queue = new Queue<JobData, void, string>(config.queueName, {
    connection,
    prefix: config.bullPrefix,
    defaultJobOptions: {
      attempts: config.jobAttempts,
      backoff: { type: 'exponential', delay: config.jobBackoffMs },
      removeOnComplete: { age: Math.round(completedJobsKeptMs / 1000), count: completedJobsKeptCount },
      removeOnFail: false,
    },
  });
  quietConnectionErrors(queue);
  return queue;
}

/**
 * BullMQ prints a Queue's connection errors with console.error (whole stack, every reconnection attempt) unless
 * the Queue has an 'error' listener. createRedisConnection already logs each outage once, without credentials.
 */
export function quietConnectionErrors(queue: Pick<Queue, 'on'>): void {
  queue.on('error', () => undefined);
}
