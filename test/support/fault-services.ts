import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@labelq/shared/s3-client';
import { startRedisServer, type RedisServerProcess } from '@labelq/shared/redis-server-process';
import { startOrphanWatchdog, type OrphanWatchdog } from '../harness/orphan-watchdog.ts';
import { s3TestServerCredentials, s3TestServerMissing, s3TestServerScriptsDir, startS3TestServer, type S3TestServer } from '../harness/s3-test-server.ts';
import { s3TestServerEnv, s3TestServerSettings } from '../harness/s3-test-server-access.ts';
import { writeTinyModel } from './tiny-model.ts';

/**
 * PRIVATE services for fault tests, which kill and restart them: a redis-server with AOF persistence and,
 * when asked, a second Swift S3 server (its own data dir and ports, beside the default suite's one). Also a
 * tiny model for the workers. Everything lives under one temp dir; close() stops it all, and a watchdog does
 * so if the test process dies first.
 */
export interface FaultServices {
  readonly dir: string;
  readonly redis: RedisServerProcess;
  /** The S3 server, when started with `s3: true`; undefined while stopped by stopS3(). */
  readonly s3: S3TestServer | undefined;
  readonly modelCardPath: string;
  /** Environment for `labelq` child processes on this Redis (and S3), on queue `queue`, with the tiny model on CPU. */
  env(queue: string, extra?: Record<string, string>): NodeJS.ProcessEnv;
  s3Client(): S3Client;
  createBucket(name: string): Promise<void>;
  /** Stops the S3 server (its objects stay on disk). */
  stopS3(): Promise<void>;
  /** Starts it again on the same port and data dir. */
  startS3(): Promise<void>;
  /** Redis restarted (SIGTERM, down for downForMs, started again on the same port with its AOF). */
  restartRedis(downForMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function faultServicesMissing(options: { s3: boolean }): string | undefined {
  return options.s3 ? s3TestServerMissing() : undefined;
}

const log = (msg: string): void => {
  process.stderr.write(`[fault services] ${msg}\n`);
};

export async function startFaultServices(options: { s3: boolean }): Promise<FaultServices> {
  const dir = await mkdtemp(join(tmpdir(), 'labelq-faults-'));
  const redisPidFile = join(dir, 'redis.pid');
  const s3DataDir = join(dir, 's3');
  const watchdog: OrphanWatchdog = startOrphanWatchdog(process.pid, [
    'bash', '-c',
    '[ -f "$1/redis.pid" ] && kill -TERM "$(cat "$1/redis.pid")" 2>/dev/null; [ -d "$1/s3" ] && bash "$2/stop.sh" "$1/s3" >/dev/null 2>&1; rm -rf "$1"',
    'labelq-fault-services-cleanup', dir, s3TestServerScriptsDir,
  ]);
  let redis: RedisServerProcess | undefined;
  let s3: S3TestServer | undefined;
  let s3Port = 0;
  let client: S3Client | undefined;
  try {
    const modelCardPath = await writeTinyModel(dir);
    redis = await startRedisServer({ dataDir: join(dir, 'redis'), appendOnly: true, appendFsync: 'everysec', log });
    await writeFile(redisPidFile, String(redis.pid));
    if (options.s3) {
      s3 = await startS3TestServer({ dataDir: s3DataDir, log, updaterIntervalS: 1 });
      s3Port = s3.port;
    }
    const theRedis = redis;
    // The port stays the same across restarts of the server, so its access does not change.
    const s3Access = () => ({ endpoint: `http://127.0.0.1:${s3Port}`, ...s3TestServerCredentials });
    const s3Settings = () => {
      if (s3 === undefined && s3Port === 0) throw new Error('these fault services have no S3 server');
      return s3TestServerSettings(s3Access(), 16);
    };
    const s3Client = (): S3Client => (client ??= createS3Client(s3Settings()));
    return {
      dir,
      redis: theRedis,
      get s3() {
        return s3;
      },
      modelCardPath,
      env(queue, extra = {}) {
        const s3Env: Record<string, string> = options.s3 ? s3TestServerEnv(s3Access()) : {};
        return {
          ...process.env,
          REDIS_URL: theRedis.url,
          LABELQ_QUEUE: queue,
          LABELQ_MODEL: modelCardPath,
          LABELQ_DEVICE: 'cpu',
          LABELQ_INTRA_OP_THREADS: '1',
          LABELQ_LOG_LEVEL: 'warn',
          ...s3Env,
          ...extra,
        };
      },
      s3Client,
      async createBucket(name) {
        await s3Client().send(new CreateBucketCommand({ Bucket: name }));
      },
      async stopS3() {
        await s3?.stop();
        s3 = undefined;
      },
      async startS3() {
        s3 = await startS3TestServer({ dataDir: s3DataDir, port: s3Port, log, updaterIntervalS: 1 });
      },
      async restartRedis(downForMs = 0) {
        await theRedis.restart(downForMs);
        await writeFile(redisPidFile, String(theRedis.pid));
      },
      async close() {
        client?.destroy();
        await Promise.allSettled([theRedis.stop(), s3?.stop()]);
        await rm(dir, { recursive: true, force: true });
        watchdog.stop();
      },
    };
  } catch (error) {
    await Promise.allSettled([redis?.stop(), s3?.stop()]);
    await rm(dir, { recursive: true, force: true });
    watchdog.stop();
    throw error;
  }
}
