import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '@labelq/shared/config';
import { LabelqError } from '@labelq/shared/errors';
import { readModelCard } from '@labelq/shared/model-card';
import { normaliseStoreUrl } from '@labelq/shared/store/open-store';
import { s3PrefixEntryBatches } from '../sources/s3-prefix-source.ts';
import { parseS3Url } from '@labelq/shared/s3-client';
import { checkScheduleName, firingJobName, scheduleDefinitionSchema, scheduleDefinitionVersion, type ScheduleDefinition } from '../schedule/schedule-definition.ts';
import { ScheduleHistory } from '../schedule/schedule-history.ts';
import { createScheduleQueue, oneFiringAtATime, schedulesQueueName, type ScheduleQueue } from '../schedule/schedule-queue.ts';
import { describeTiming, repeatOptionsFor } from '../schedule/schedule-timing.ts';
import { runState } from '../status-format.ts';
import type { CliContext } from './cli-context.ts';

export interface ScheduleCommandOptions {
  /** The model card a worker loads by default (LABELQ_MODEL, else the converted ResNet50): the default of --model. */
  defaultModelCardPath: (config: Config) => string;
}

interface AddFlags {
  cron?: string;
  every?: string;
  tz?: string;
  source: string;
  out?: string;
  model?: string;
  chunk?: string;
}

/** `labelq schedule add | list | remove`: back-fills that BullMQ job schedulers fire and `labelq worker` processes run. */
export function registerScheduleCommands(program: Command, context: CliContext, options: ScheduleCommandOptions): void {
  const schedule = program
    .command('schedule')
    .description('Scheduled back-fills: each firing labels the objects of an S3 prefix that have no result yet for the model (see docs/schedules.md).');

  schedule
    .command('add')
    .description('Add a schedule, or change the one with this name (what it has labelled is kept).')
    .argument('<name>', 'schedule name: 1-40 letters, digits, "_" or "-"; runs are named <name>-YYYYMMDD-HHMMSS-mmm')
    .option('--cron <expression>', 'when to fire: a cron expression, e.g. "0 2 * * *" (02:00 every day)')
    .option('--every <ms>', 'fire every <ms> milliseconds instead of --cron')
    .option('--tz <zone>', 'time zone of --cron (default UTC), e.g. Europe/Paris')
    .requiredOption('--source <s3://bucket/prefix/>', 'the objects to label')
    .option('--out <dir|s3://bucket/prefix>', 'where records go (default: LABELQ_OUT)')
    .option('--model <card.json>', "the model card the workers use (default: LABELQ_MODEL, else the worker's default model)")
    .option('--chunk <n>', 'image URIs per job (default: LABELQ_CHUNK_SIZE)')
    .action(async (nameArgument: string, flags: AddFlags) => {
      const name = checkScheduleName(nameArgument);
      const { repeat } = repeatOptionsFor({ cron: flags.cron, every: flags.every, tz: flags.tz });
      const config = context.config();
      const definition = await scheduleDefinitionFor(name, flags, config, context, options);
      // Catch a mistyped bucket now rather than at the first firing.
      for await (const _page of s3PrefixEntryBatches(context.s3(), ...bucketAndPrefix(definition.source))) break;

      await context.connectedRedis('queue');
      const queue = scheduleQueueOf(context);
      await oneFiringAtATime(queue);
      const next = await queue.upsertJobScheduler(name, repeat, { name: firingJobName, data: definition });
      const nextAt = next === undefined ? '-' : new Date(next.timestamp + (next.opts.delay ?? 0)).toISOString();
      context.stdout.write(
        [
          `schedule  ${name}`,
          `fires     ${describeTiming({ pattern: repeat.pattern, every: repeat.every, tz: repeat.tz })}, next at ${nextAt}`,
          `source    ${definition.source}`,
          `records   ${definition.out}`,
          `model     ${definition.model.name} (sha256 ${definition.model.sha256.slice(0, 12)}…)`,
          `Firings are processed by \`labelq worker\` processes on queue ${schedulesQueueName(config)}.`,
          '',
        ].join('\n'),
      );
    });

  schedule
    .command('list')
    .description('List the schedules with their timing, next firing and last run.')
    .option('--json', 'print one JSON object per schedule')
    .action(async (flags: { json?: boolean }) => {
      await context.connectedRedis('queue');
      const queue = scheduleQueueOf(context);
      const history = historyOf(context);
      const registry = await context.readyRegistry();
      const schedulers = await queue.getJobSchedulers(0, -1, true);
      if (schedulers.length === 0 && flags.json !== true) {
        context.stderr.write('No schedules in this queue.\n');
        return;
      }
      for (const scheduler of schedulers) {
        const name = scheduler.id ?? scheduler.key;
        const parsed = scheduleDefinitionSchema.safeParse(scheduler.template?.data);
        const definition = parsed.success ? parsed.data : undefined;
        const last = await history.lastFiring(name);
        const lastRunState =
          last?.run === undefined ? undefined : await registry.status(last.run).then(runState, () => 'unknown' as const);
        const next = scheduler.next === undefined ? undefined : new Date(scheduler.next).toISOString();
        if (flags.json === true) {
          context.stdout.write(`${JSON.stringify({ name, timing: describeTiming(scheduler), next, definition, lastFiring: last, lastRunState })}\n`);
          continue;
        }
        const lastText =
          last === undefined
            ? 'never fired'
            : `last fired ${new Date(last.firedAtMs).toISOString()}: ${last.run === undefined ? 'nothing new' : `run ${last.run} (${last.enqueued} images, ${lastRunState})`}`;
        context.stdout.write(
          `${name}  ${describeTiming(scheduler)}  next ${next ?? '-'}  ${definition?.source ?? '(unreadable definition)'} -> ${definition?.out ?? '?'}  model ${definition?.model.name ?? '?'}  ${lastText}\n`,
        );
      }
    });

  schedule
    .command('remove')
    .description('Remove a schedule and forget what it labelled (its runs and records stay).')
    .argument('<name>', 'schedule name')
    .action(async (nameArgument: string) => {
      const name = checkScheduleName(nameArgument);
      await context.connectedRedis('queue');
      const queue = scheduleQueueOf(context);
      const existed = (await queue.getJobScheduler(name)) !== undefined;
      if (!existed) throw new LabelqError('CONFIG_INVALID', `There is no schedule "${name}" in queue ${schedulesQueueName(context.config())}: \`labelq schedule list\` shows the schedules.`);
      await queue.removeJobScheduler(name);
      // A firing already taken finishes first (it may start a run); then what the schedule noted is forgotten.
      await removeWaitingFirings(queue, name);
      const settled = await waitForRunningFiring(queue, name, firingSettleTimeoutMs);
      await historyOf(context).forget(name);
      if (!settled) context.stderr.write(`A firing of ${name} was still running after ${firingSettleTimeoutMs / 1000} s: it may start one more run.\n`);
      context.stdout.write(`Removed schedule ${name}. Its runs and their records stay.\n`);
    });
}

async function scheduleDefinitionFor(name: string, flags: AddFlags, config: Config, context: CliContext, options: ScheduleCommandOptions): Promise<ScheduleDefinition> {
  let source = flags.source.trim();
  if (!/^s3:\/\//i.test(source)) {
    throw new LabelqError('SOURCE_INVALID', `--source ${flags.source}: a schedule lists an S3 prefix, s3://bucket/prefix/ (folders and manifests are not scheduled).`);
  }
  source = `s3://${source.slice('s3://'.length)}`;
  if (!/^s3:\/\/[^/]+\//.test(source)) source = `${source}/`;
  let out: string;
  try {
    out = normaliseStoreUrl(flags.out ?? config.out, context.cwd);
  } catch (error) {
    throw new LabelqError('CONFIG_INVALID', `--out ${flags.out ?? config.out}: ${(error as Error).message}.`, { cause: error });
  }
  const chunkSize = flags.chunk === undefined ? config.chunkSize : Number(flags.chunk);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new LabelqError('CONFIG_INVALID', `--chunk ${flags.chunk}: expected a positive whole number of image URIs per job.`);
  const cardPath = flags.model === undefined ? options.defaultModelCardPath(config) : resolve(context.cwd, flags.model);
  const card = await readModelCard(cardPath);
  return scheduleDefinitionSchema.parse({
    v: scheduleDefinitionVersion,
    name,
    source,
    out,
    chunkSize,
    model: { name: card.name, sha256: card.sha256 },
  } satisfies ScheduleDefinition);
}

function bucketAndPrefix(source: string): [string, string] {
  const { bucket, key } = parseS3Url(source);
  return [bucket, key];
}

function scheduleQueueOf(context: CliContext): ScheduleQueue {
  const queue = createScheduleQueue(context.config(), context.redis('queue'));
  context.onClose('schedule queue', () => queue.close());
  return queue;
}

function historyOf(context: CliContext): ScheduleHistory {
  const config = context.config();
  return new ScheduleHistory(context.redis('command'), config.bullPrefix, config.queueName);
}

/** How long `schedule remove` waits for a firing of the schedule that is running, in ms. */
const firingSettleTimeoutMs = 60_000;

/** Firings of this schedule that were made but not taken yet (BullMQ keeps them after the scheduler goes). */
async function removeWaitingFirings(queue: ScheduleQueue, name: string): Promise<void> {
  for (const job of await queue.getJobs(['waiting', 'delayed', 'prioritized'])) {
    if (job.repeatJobKey === name) await job.remove().catch(() => undefined); // taken meanwhile: waited for below
  }
}

/** Waits until no firing of this schedule is active; false when one still is after timeoutMs. */
async function waitForRunningFiring(queue: ScheduleQueue, name: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const active = await queue.getJobs(['active']);
    if (!active.some((job) => job.repeatJobKey === name)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
