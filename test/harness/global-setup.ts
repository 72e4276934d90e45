import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { isLabelqError } from '@labelq/shared/errors';
import { startRedisServer, type RedisServerProcess } from '@labelq/shared/redis-server-process';
import { startOrphanWatchdog } from './orphan-watchdog.ts';
import type { TestRedis, TestS3, TestServices, Unavailable } from './provided-context.ts';
import { s3TestServerCredentials, s3TestServerMissing, s3TestServerScriptsDir, startS3TestServer, type S3TestServer } from './s3-test-server.ts';

/**
 * vitest globalSetup: one Redis and one S3-compatible server (Swift + s3api) for the whole run, under one
 * temp dir, stopped at teardown, on exit, and by a watchdog if the runner dies without either.
 * LABELQ_TEST_REDIS_URL / LABELQ_TEST_S3_ENDPOINT (with LABELQ_TEST_S3_REGION, LABELQ_TEST_S3_ACCESS_KEY_ID,
 * LABELQ_TEST_S3_SECRET_ACCESS_KEY; defaults: the Swift test server's) point the tests at running servers instead.
 */
const log = (msg: string): void => {
  process.stderr.write(`[test services] ${msg}\n`);
};

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const tempDir = await mkdtemp(join(tmpdir(), 'labelq-test-services-'));
  const redisPidFile = join(tempDir, 'redis.pid');
  const s3DataDir = join(tempDir, 's3');
  let redis: RedisServerProcess | undefined;
  let s3: S3TestServer | undefined;

  // Runner killed (SIGKILL, unhandled signal): the watchdog stops what the pid files name, then removes the dir.
  const watchdog = startOrphanWatchdog(process.pid, [
    'bash', '-c',
    '[ -f "$1/redis.pid" ] && kill -TERM "$(cat "$1/redis.pid")" 2>/dev/null; bash "$2/stop.sh" "$1/s3" >/dev/null 2>&1; rm -rf "$1"',
    'labelq-test-services-cleanup', tempDir, s3TestServerScriptsDir,
  ]);
  // Runner exits without teardown (process.exit, uncaught error): stop everything synchronously.
  const stopOnExit = (): void => {
    if (redis !== undefined) {
      try {
        process.kill(redis.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    s3?.stopSync();
    rmSync(tempDir, { recursive: true, force: true });
    watchdog.stop();
  };
  process.once('exit', stopOnExit);

  const teardown = async (): Promise<void> => {
    process.off('exit', stopOnExit);
    const rss = await residentMemory(redis, s3);
    await Promise.allSettled([redis?.stop(), s3?.stop()]);
    await rm(tempDir, { recursive: true, force: true });
    watchdog.stop();
    if (rss !== '') log(`stopped; resident memory at the end: ${rss}`);
  };

  const startRedis = async (): Promise<TestRedis | Unavailable> => {
    const url = process.env['LABELQ_TEST_REDIS_URL'];
    if (url !== undefined && url !== '') return { url };
    try {
      redis = await startRedisServer({ dataDir: join(tempDir, 'redis'), log });
    } catch (error) {
      if (isLabelqError(error) && error.code === 'REDIS_SERVER_MISSING') return { unavailable: error.message };
      throw error;
    }
    await writeFile(redisPidFile, String(redis.pid));
    return { url: redis.url };
  };

  const startS3 = async (): Promise<TestS3 | Unavailable> => {
    const endpoint = process.env['LABELQ_TEST_S3_ENDPOINT'];
    if (endpoint !== undefined && endpoint !== '') {
      return {
        endpoint,
        region: process.env['LABELQ_TEST_S3_REGION'] ?? s3TestServerCredentials.region,
        accessKeyId: process.env['LABELQ_TEST_S3_ACCESS_KEY_ID'] ?? s3TestServerCredentials.accessKeyId,
        secretAccessKey: process.env['LABELQ_TEST_S3_SECRET_ACCESS_KEY'] ?? s3TestServerCredentials.secretAccessKey,
      };
    }
    const missing = s3TestServerMissing();
    if (missing !== undefined) return { unavailable: missing };
    await mkdir(s3DataDir, { recursive: true });
    s3 = await startS3TestServer({ dataDir: s3DataDir, log });
    const { endpoint: started, region, accessKeyId, secretAccessKey } = s3;
    return { endpoint: started, region, accessKeyId, secretAccessKey };
  };

  const [redisResult, s3Result] = await Promise.allSettled([startRedis(), startS3()]);
  if (redisResult.status === 'rejected' || s3Result.status === 'rejected') {
    await teardown();
    throw redisResult.status === 'rejected' ? redisResult.reason : (s3Result as PromiseRejectedResult).reason;
  }
  const services: TestServices = { redis: redisResult.value, s3: s3Result.value };
  for (const [name, service] of Object.entries(services)) {
    if ('unavailable' in service) log(`${name} unavailable: ${service.unavailable} (tests that need it fail or skip)`);
  }
  project.provide('labelqTestServices', services);
  return teardown;
}

/** "redis 9 MiB, swift 251 MiB": VmRSS of the servers this setup started. */
async function residentMemory(redis: RedisServerProcess | undefined, s3: S3TestServer | undefined): Promise<string> {
  const parts: string[] = [];
  if (redis !== undefined) parts.push(`redis ${rssMiB([redis.pid])} MiB`);
  if (s3 !== undefined) parts.push(`swift+memcached ${rssMiB(await s3.pids())} MiB`);
  return parts.join(', ');
}

function rssMiB(pids: number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      kib += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // process gone
    }
  }
  return Math.round(kib / 1024);
}
