import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { repoRoot, testRedisUrl, testS3Server } from '../harness/services.ts';
import { s3TestServerEnv } from '../harness/s3-test-server-access.ts';

/** The `labelq` entry point, run by the same Node 24 binary as the tests. */
export const labelqBin = resolve(repoRoot, 'worker/bin/labelq.js');

/** Environment for labelq processes that talk to the test Redis and S3 server, on an isolated queue. */
export function labelqEnv(queue: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const s3 = testS3Server();
  return {
    ...process.env,
    REDIS_URL: testRedisUrl(),
    LABELQ_QUEUE: queue,
    ...s3TestServerEnv(s3),
    LABELQ_LOG_LEVEL: 'warn',
    ...extra,
  };
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `labelq <args>` to completion and returns what it printed. */
export function runLabelq(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<Finished> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [labelqBin, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** A long-running `labelq` process (a worker); `stop()` sends SIGTERM and waits for its exit. */
export interface RunningLabelq {
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<Finished>;
}

export function startLabelq(args: string[], env: NodeJS.ProcessEnv): RunningLabelq {
  const child = spawn(process.execPath, [labelqBin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Finished>((done) => child.on('close', (code, signal) => done({ code, signal, stdout, stderr })));
  return {
    child,
    output: () => stdout + stderr,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
