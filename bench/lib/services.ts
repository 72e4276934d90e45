import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { startRedisServer, type RedisServerProcess } from '@labelq/shared/redis-server-process';
import { createS3Client, type S3Settings } from '@labelq/shared/s3-client';
import { startS3TestServer, s3TestServerMissing, type S3TestServer } from '../../test/harness/s3-test-server.ts';
import { s3TestServerEnv, s3TestServerSettings } from '../../test/harness/s3-test-server-access.ts';
import { progress } from './progress.ts';

/** The private Redis and S3 server of one bench run (never the user's), and the env that points labelq at them. */
export interface BenchServices {
  redis: RedisServerProcess;
  s3: S3TestServer | undefined;
  /** Why the S3 server is missing, when it is. */
  s3Unavailable: string | undefined;
  s3Settings: S3Settings | undefined;
  /** A bucket made for this run. */
  bucket: string | undefined;
  /** Environment for `labelq` child processes: REDIS_URL, S3 endpoint and credentials. */
  env: NodeJS.ProcessEnv;
  workDir: string;
  stop(): Promise<void>;
}

export async function startBenchServices(options: { withS3: boolean; profileDir?: string | undefined }): Promise<BenchServices> {
  const workDir = await mkdtemp(join(tmpdir(), 'labelq-bench-'));
  progress('starting a private redis-server');
  const redis = await startRedisServer({});
  let s3: S3TestServer | undefined;
  let s3Unavailable = options.withS3 ? s3TestServerMissing() : 'not needed by the chosen sections';
  if (options.withS3 && s3Unavailable === undefined) {
    progress('starting the Swift S3 test server (about 5-25 s)');
    try {
      s3 = await startS3TestServer({ dataDir: join(workDir, 's3') });
    } catch (error) {
      s3Unavailable = error instanceof Error ? error.message : String(error);
    }
  }
  const s3Settings: S3Settings | undefined = s3 === undefined ? undefined : s3TestServerSettings(s3, 64);
  let bucket: string | undefined;
  if (s3Settings !== undefined) {
    bucket = `labelq-bench-${Date.now().toString(36)}`;
    const client = createS3Client(s3Settings);
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    client.destroy();
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redis.url,
    LABELQ_LOG_LEVEL: 'info',
    ...(options.profileDir === undefined ? {} : { NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --cpu-prof --cpu-prof-dir=${options.profileDir}`.trim() }),
    ...(s3 === undefined ? {} : s3TestServerEnv(s3)),
  };
  return {
    redis,
    s3,
    s3Unavailable,
    s3Settings,
    bucket,
    env,
    workDir,
    async stop() {
      await s3?.stop().catch(() => undefined);
      await redis.stop().catch(() => undefined);
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
