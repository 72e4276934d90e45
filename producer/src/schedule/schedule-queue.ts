import { quietConnectionErrors } from '@labelq/shared/queue';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '@labelq/shared/config';
import type { ScheduleDefinition } from './schedule-definition.ts';

export type ScheduleQueue = Queue<ScheduleDefinition, FiringResult, string>;

/** What one firing did; the return value of its job (kept in BullMQ's completed set). */
export interface FiringResult {
  schedule: string;
  /** The run the firing started; undefined when there was nothing new to label. */
  run: string | undefined;
  /** Objects listed under the source (image extensions only). */
  listed: number;
  /** Objects enqueued: new, changed, or not yet labelled with the schedule's model. */
  enqueued: number;
}

/** Firings kept in BullMQ after they complete or fail (for `labelq schedule list` and debugging). */
export const firingsKept = 100;

/** The small queue that firings land on: `<LABELQ_QUEUE>-schedules`, consumed by every `labelq worker`. */
export function schedulesQueueName(config: Pick<Config, 'queueName'>): string {
  return `${config.queueName}-schedules`;
}

/**
 * The schedules queue. Firings are processed one at a time across all workers (BullMQ global concurrency 1),
 * so two firings, of one schedule or of two, never list and enqueue at the same moment.
 */
export function createScheduleQueue(config: Pick<Config, 'queueName' | 'bullPrefix'>, connection: Redis): ScheduleQueue {
  const queue = new Queue<ScheduleDefinition, FiringResult, string>(schedulesQueueName(config), {
    connection,
    prefix: config.bullPrefix,
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5_000 },
      removeOnComplete: { count: firingsKept },
      removeOnFail: { count: firingsKept },
    },
  });
  quietConnectionErrors(queue);
  return queue;
}

/** Makes firings run one at a time across every worker process (idempotent). */
export async function oneFiringAtATime(queue: ScheduleQueue): Promise<void> {
  await queue.setGlobalConcurrency(1);
}
