import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { repoRoot } from '../../test/support/shared-data.ts';
import { progress } from './progress.ts';

/** The real `labelq` CLI, run by the same Node 24 binary as the bench. */
const labelqBin = resolve(repoRoot, 'worker/bin/labelq.js');

export async function writeManifest(path: string, uris: readonly string[]): Promise<void> {
  await writeFile(path, `${uris.join('\n')}\n`);
}

export interface EnqueueOutcome {
  wallMs: number;
  stderr: string;
}

/** `labelq enqueue <manifest> --run <run> --chunk <n> --out <out>`, to completion. */
export function enqueue(env: NodeJS.ProcessEnv, manifest: string, options: { run: string; chunk: number; out: string }): Promise<EnqueueOutcome> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const args = [labelqBin, 'enqueue', manifest, '--run', options.run, '--chunk', String(options.chunk), '--out', options.out];
    const child = spawn(process.execPath, args, { env: { ...env, LABELQ_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      if (code === 0) done({ wallMs: performance.now() - started, stderr });
      else fail(new Error(`labelq enqueue ${manifest} exited with ${code}: ${stderr.trim().slice(-2000)}`));
    });
  });
}

export interface WorkerProcess {
  pid: number;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `labelq worker` processes and waits until each has logged "worker started" (session open, queue joined). */
export async function startWorkers(env: NodeJS.ProcessEnv, count: number, readyTimeoutMs = 180_000): Promise<WorkerProcess[]> {
  const workers = Array.from({ length: count }, () => startWorker(env));
  try {
    await Promise.all(workers.map((worker) => worker.ready(readyTimeoutMs)));
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.stop()));
    throw error;
  }
  return workers;
}

function startWorker(env: NodeJS.ProcessEnv): WorkerProcess & { ready(timeoutMs: number): Promise<void> } {
  const child = spawn(process.execPath, [labelqBin, 'worker'], { env: { ...env, LABELQ_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let keptBytes = 0;
  const keep = (chunk: Buffer): void => {
    // Keep the start (readiness, warnings) and stop there: a long soak must not grow the bench's own memory.
    if (keptBytes > 200_000) return;
    keptBytes += chunk.length;
    output += chunk.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((done) => child.on('close', () => done()));
  return {
    pid: child.pid ?? -1,
    child,
    output: () => output,
    ready(timeoutMs) {
      return new Promise((done, fail) => {
        const timer = setInterval(() => {
          if (output.includes('"msg":"worker started"')) {
            clearInterval(timer);
            done();
          } else if (child.exitCode !== null || performance.now() - started > timeoutMs) {
            clearInterval(timer);
            fail(new Error(`a labelq worker did not start (exit ${child.exitCode}): ${output.slice(-2000)}`));
          }
        }, 50);
        const started = performance.now();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(forced);
    },
  };
}

export interface RunTimes {
  /** Registry times: the first job taken and the last job's records written (ms since epoch). */
  startedAtMs: number;
  lastDoneAtMs: number;
  jobsDone: number;
  jobsFailed: number;
  imagesDone: number;
  itemErrors: number;
}

/**
 * Polls the run registry (HLEN of the run's done hash, cheap for Redis) until `jobs` jobs are done or failed,
 * reporting progress on standard error every few seconds.
 */
export async function waitForRun(
  redisUrl: string,
  queue: string,
  run: string,
  jobs: number | undefined,
  options: { timeoutMs: number; label: string; onTick?: (jobsDone: number) => void },
): Promise<RunTimes> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const key = `bull:${queue}:labelq:run:${run}`;
  const began = performance.now();
  let lastReportMs = 0;
  try {
    // The jobs the producer registered for the run (it leaves out repeated URIs, so count them, don't compute).
    jobs = jobs ?? (await redis.hlen(`${key}:chunks`));
    for (;;) {
      const [done, failed] = await Promise.all([redis.hlen(`${key}:done`), redis.hlen(`${key}:failed`)]);
      options.onTick?.(done);
      if (done + failed >= jobs) break;
      const elapsedMs = performance.now() - began;
      if (elapsedMs > options.timeoutMs) throw new Error(`${options.label}: only ${done} of ${jobs} jobs done after ${Math.round(elapsedMs / 1000)} s`);
      if (elapsedMs - lastReportMs > 5000) {
        lastReportMs = elapsedMs;
        progress(`${options.label}: ${done}/${jobs} jobs done (${Math.round(elapsedMs / 1000)} s)`);
      }
      await new Promise((wake) => setTimeout(wake, 100));
    }
    const hash = await redis.hgetall(key);
    const doneValues = await redis.hvals(`${key}:done`);
    let imagesDone = 0;
    let itemErrors = 0;
    for (const value of doneValues) {
      const [images, errors] = value.split(' ').map(Number);
      imagesDone += images ?? 0;
      itemErrors += errors ?? 0;
    }
    return {
      startedAtMs: Number(hash['startedAtMs']),
      lastDoneAtMs: Number(hash['lastDoneAtMs']),
      jobsDone: doneValues.length,
      jobsFailed: await redis.hlen(`${key}:failed`),
      imagesDone,
      itemErrors,
    };
  } finally {
    redis.disconnect();
  }
}

export function imagesPerSecondOf(times: RunTimes): number {
  const seconds = (times.lastDoneAtMs - times.startedAtMs) / 1000;
  return seconds > 0 ? round1(times.imagesDone / seconds) : Number.NaN;
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
