import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { CommanderError, InvalidArgumentError, Option, type Command } from 'commander';
import { LabelqError } from '@labelq/shared/errors';
import type { RunRegistry, RunStatus } from '@labelq/shared/run-registry';
import { normaliseStoreUrl } from '@labelq/shared/store/open-store';
import { enqueueSource, type EnqueueProgress } from '../enqueue.ts';
import { csvHeader, recordToCsvRow } from '../format-csv.ts';
import { readRunRecords } from '../results.ts';
import { newRunId } from '../run-id.ts';
import { describeInvalid } from '../sources/checked-items.ts';
import { openSource } from '../sources/source.ts';
import { createProgressDisplay, watchRun } from '../progress-display.ts';
import { formatRunLine, formatRunStatus, formatRunSummary, runState } from '../status-format.ts';
import type { CliContext } from './cli-context.ts';
import { registerOperatorCommands } from './operator-commands.ts';

/** How often `enqueue` reports progress on standard error, in ms. */
export const progressIntervalMs = 1000;
/** Bytes gathered before one write to standard output. */
const outputFlushBytes = 64 * 1024;

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a positive whole number.');
  return number;
}

/** Writes to a stream, waiting when its buffer is full (so `labelq results > file` holds little in memory). */
async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

interface EnqueueFlags {
  run?: string;
  chunk?: number;
  out?: string;
  skipInvalid?: boolean;
}

/** Adds `enqueue`, `status`, `results` and `runs` to a commander program. */
export function registerProducerCommands(program: Command, context: CliContext): void {
  program
    .command('enqueue')
    .description('Enqueue the images of a source (folder, .txt/.jsonl manifest, s3://bucket/prefix/, or - for standard input) as one run.')
    .argument('<source>', 'folder, manifest file, s3://bucket/prefix/ or -')
    .option('--run <id>', 'run id (default: run-YYYYMMDD-HHMMSS-xxxx); enqueuing into an existing run adds only the chunks it lacks')
    .option('--chunk <n>', 'image URIs per job (default: LABELQ_CHUNK_SIZE, or the existing run\'s)', positiveInteger)
    .option('--out <where>', 'where records go: a folder or s3://bucket/prefix (default: LABELQ_OUT, or the existing run\'s)')
    .option('--skip-invalid', 'enqueue the valid lines of a manifest and report the invalid ones, instead of failing')
    .action(async (sourceSpec: string, flags: EnqueueFlags) => {
      await enqueueCommand(context, sourceSpec, flags);
    });

  program
    .command('status')
    .description('Show how far a run is: images queued, in progress, done, failed, item errors, images/s.')
    .argument('<run>', 'run id')
    .option('--json', 'print the status as JSON')
    .option('--watch', 'show live progress until the run ends; exit 0 when it finished, 1 when jobs failed')
    .option('--interval-ms <ms>', 'with --watch: time between two looks at the run, in ms', positiveInteger, 500)
    .action(async (run: string, flags: { json?: boolean; watch?: boolean; intervalMs: number }) => {
      const registry = await context.readyRegistry();
      if (flags.watch === true) {
        await watchCommand(context, registry, run, flags);
        return;
      }
      const status = await registry.status(run);
      await write(context.stdout, flags.json === true ? `${JSON.stringify({ ...status, state: runState(status) })}\n` : formatRunStatus(status));
    });

  program
    .command('results')
    .description("Print a run's records to standard output.")
    .argument('<run>', 'run id')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv']).default('jsonl'))
    .option('--out <dir|s3://bucket/prefix>', "read the records from this store, without asking Redis (e.g. after `labelq label` with its private Redis)")
    .action(async (run: string, flags: { format: 'jsonl' | 'csv'; out?: string }) => {
      const out = flags.out === undefined ? (await (await context.readyRegistry()).requireRun(run)).out : normaliseStoreUrl(flags.out);
      const store = context.store(out);
      let buffer = flags.format === 'csv' ? csvHeader() : '';
      for await (const record of readRunRecords(store, run)) {
        buffer += flags.format === 'csv' ? recordToCsvRow(record) : `${JSON.stringify(record)}\n`;
        if (buffer.length >= outputFlushBytes) {
          await write(context.stdout, buffer);
          buffer = '';
        }
      }
      if (buffer !== '') await write(context.stdout, buffer);
    });

  program
    .command('runs')
    .description('List the runs of this queue, oldest first, with their state.')
    .option('--json', 'print one JSON object per run')
    .action(async (flags: { json?: boolean }) => {
      const registry = await context.readyRegistry();
      const runs = await registry.listRunIds();
      const statuses: RunStatus[] = [];
      for (const run of runs) {
        const status = await registry.status(run).catch((error: unknown) => {
          if (error instanceof LabelqError && error.code === 'RUN_NOT_FOUND') return undefined;
          throw error;
        });
        if (status !== undefined) statuses.push(status);
      }
      if (flags.json === true) {
        for (const status of statuses) await write(context.stdout, `${JSON.stringify({ ...status, state: runState(status) })}\n`);
      } else if (statuses.length === 0) {
        await write(context.stderr, 'No runs in this queue.\n');
      } else {
        for (const status of statuses) await write(context.stdout, formatRunLine(status));
      }
    });
  registerOperatorCommands(program, context);
}

/**
 * `labelq status <run> --watch`: the progress display on standard error until every job is over, then the
 * summary line (or, with --json, the status) on standard output. A run with failed jobs ends with status 1,
 * an interrupt with 130.
 */
async function watchCommand(context: CliContext, registry: RunRegistry, run: string, flags: { json?: boolean; intervalMs: number }): Promise<void> {
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted !== undefined) process.exit(130);
    interrupted = signal;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const display = createProgressDisplay(context.stderr);
    const { status, stopped } = await watchRun(registry, run, { display, pollIntervalMs: flags.intervalMs, shouldStop: () => interrupted !== undefined });
    if (stopped) throw new CommanderError(130, 'labelq.interrupted', `Stopped watching run ${run} (${interrupted}); the run goes on.`);
    await write(context.stdout, flags.json === true ? `${JSON.stringify({ ...status, state: runState(status) })}\n` : formatRunSummary(status));
    if (runState(status) === 'failed') throw new CommanderError(1, 'labelq.runFailed', formatRunSummary(status));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function enqueueCommand(context: CliContext, sourceSpec: string, flags: EnqueueFlags): Promise<void> {
  const config = context.config();
  const run = flags.run ?? newRunId();
  const registry = await context.readyRegistry();
  const existing = flags.run === undefined ? undefined : await registry.getRun(run);
  let out: string;
  try {
    out = normaliseStoreUrl(flags.out ?? existing?.out ?? config.out, context.cwd);
  } catch (error) {
    throw new LabelqError('CONFIG_INVALID', `--out ${flags.out ?? config.out}: ${(error as Error).message}.`, { cause: error });
  }
  const chunkSize = flags.chunk ?? existing?.chunkSize ?? config.chunkSize;
  const source = await openSource(sourceSpec, { s3: () => context.s3(), stdin: context.stdin, cwd: context.cwd });
  await context.connectedRedis('queue');

  let lastReportMs = Date.now();
  const report = (progress: EnqueueProgress): void => {
    const now = Date.now();
    if (now - lastReportMs < progressIntervalMs) return;
    lastReportMs = now;
    const rate = progress.elapsedMs > 0 ? Math.round((progress.images * 1000) / progress.elapsedMs) : 0;
    context.stderr.write(
      `enqueue ${progress.run}: ${progress.images} images in ${progress.jobs} jobs (${progress.jobsAdded} added), ${rate} images/s\n`,
    );
  };

  const startedMs = Date.now();
  const result = await enqueueSource({
    queue: context.queue(),
    registry,
    source,
    run,
    out,
    chunkSize,
    skipInvalid: flags.skipInvalid === true,
    store: context.store(out),
    onProgress: report,
  });
  const elapsedS = (Date.now() - startedMs) / 1000;

  const { skippedLines } = result;
  if (skippedLines.count > 0) {
    const shown = skippedLines.first.map((entry) => `  ${describeInvalid(entry)}`);
    if (skippedLines.count > skippedLines.first.length) shown.push(`  … and ${skippedLines.count - skippedLines.first.length} more`);
    await write(context.stderr, `Skipped ${skippedLines.count} invalid ${skippedLines.count === 1 ? 'entry' : 'entries'} of the ${source.description}:\n${shown.join('\n')}\n`);
  }
  if (result.images === 0) {
    const skipped = result.skippedLines.count > 0 ? ` (${result.skippedLines.count} invalid entries skipped)` : '';
    throw new LabelqError('SOURCE_INVALID', `The ${source.description} holds no image URIs${skipped}; nothing was enqueued.`);
  }
  const already = result.jobs - result.jobsAdded;
  await write(
    context.stdout,
    [
      `run      ${result.run}`,
      `images   ${result.images}`,
      ...(result.duplicates.count > 0 ? [`dropped  ${result.duplicates.count} repeated URIs (each URI is enqueued once, at its first occurrence)`] : []),
      `jobs     ${result.jobs}${already > 0 ? ` (${result.jobsAdded} added, ${already} were already enqueued)` : ''}`,
      `records  ${out}`,
      `took     ${elapsedS.toFixed(2)} s`,
      '',
    ].join('\n'),
  );
}
