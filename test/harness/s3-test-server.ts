import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';

/** Drives infra/s3-test-server/{start,stop}.sh: single-node Swift + s3api, everything under one data dir. */
export const s3TestServerScriptsDir = resolve(import.meta.dirname, '../../infra/s3-test-server');
export const s3TestServerCredentials = { region: 'us-east-1', accessKeyId: 'test:tester', secretAccessKey: 'testing' } as const;

export interface S3TestServer {
  endpoint: string;
  port: number;
  dataDir: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Milliseconds from launch until a signed ListBuckets succeeded. */
  startMs: number;
  /** Pids of the Swift servers and memcached (from the pid files). */
  pids(): Promise<number[]>;
  stop(): Promise<void>;
  /** For exit handlers: stops synchronously. */
  stopSync(): void;
}

/** The programs start.sh needs, or a sentence naming those missing. */
export function s3TestServerMissing(): string | undefined {
  const missing = ['/usr/bin/python3', '/usr/bin/swift-proxy-server', '/usr/bin/memcached'].filter((path) => !existsSync(path));
  return missing.length === 0
    ? undefined
    : `the Swift S3 test server cannot start: ${missing.join(', ')} missing; run infra/install-deps.sh`;
}

export interface S3TestServerOptions {
  dataDir: string;
  /** 0 or unset = a free port. */
  port?: number;
  /** Longest wait for readiness, in seconds. Default 120: about 3 s idle, but 25 s was seen on a 2-core machine at load 14. */
  readyTimeoutS?: number;
  log?: (msg: string) => void;
  /**
   * Run Swift's object-updater every this many seconds (0 or unset: not at all). Tests that stop and restart the
   * server need it: container updates that failed meanwhile are replayed, or those objects miss from listings.
   * Each sweep costs about a second of CPU, so the default suite and the bench leave it off.
   */
  updaterIntervalS?: number;
}

export async function startS3TestServer(options: S3TestServerOptions): Promise<S3TestServer> {
  const startedAt = performance.now();
  const env = {
    ...process.env,
    S3_TEST_SERVER_READY_TIMEOUT_S: String(options.readyTimeoutS ?? 120),
    S3_TEST_SERVER_UPDATER_INTERVAL_S: String(options.updaterIntervalS ?? 0),
  };
  const { stdout } = await runScript('start.sh', [options.dataDir, String(options.port ?? 0)], options.log, env);
  const endpoint = stdout.trim().split('\n').at(-1) ?? '';
  const port = Number(/^http:\/\/127\.0\.0\.1:(\d+)$/.exec(endpoint)?.[1]);
  if (!Number.isInteger(port)) throw new Error(`start.sh printed "${endpoint}" where an endpoint URL was expected`);
  await assertSignedRequestWorks(endpoint);
  const startMs = Math.round(performance.now() - startedAt);
  options.log?.(`S3 test server (Swift s3api) ready at ${endpoint} in ${startMs} ms`);
  const dataDir = resolve(options.dataDir);
  return {
    endpoint,
    port,
    dataDir,
    ...s3TestServerCredentials,
    startMs,
    async pids() {
      const runDir = join(dataDir, 'run');
      const names = (await readdir(runDir).catch(() => [])).filter((name) => name.endsWith('.pid'));
      return Promise.all(names.map(async (name) => Number(await readFile(join(runDir, name), 'utf8'))));
    },
    async stop() {
      await runScript('stop.sh', [dataDir], options.log);
    },
    stopSync() {
      spawnSync('bash', [join(s3TestServerScriptsDir, 'stop.sh'), dataDir], { stdio: 'ignore' });
    },
  };
}

/** The proxy can answer /healthcheck before tempauth and the account server do: prove the S3 side with the SDK. */
async function assertSignedRequestWorks(endpoint: string): Promise<void> {
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: s3TestServerCredentials.region,
    credentials: { accessKeyId: s3TestServerCredentials.accessKeyId, secretAccessKey: s3TestServerCredentials.secretAccessKey },
  });
  try {
    await client.send(new ListBucketsCommand({}));
  } finally {
    client.destroy();
  }
}

function runScript(
  script: string,
  args: string[],
  log?: (msg: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn('bash', [join(s3TestServerScriptsDir, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', fail);
    child.once('close', (code) => {
      if (code === 0) {
        if (stderr.trim() !== '') log?.(stderr.trim());
        done({ stdout, stderr });
      } else {
        fail(new Error(`infra/s3-test-server/${script} ${args.join(' ')} failed (exit ${code}):\n${stderr.trim()}`));
      }
    });
  });
}
