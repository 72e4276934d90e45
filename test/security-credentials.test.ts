import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Queue, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIdFor, labelJobName, type JobData } from '@labelq/shared/job';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { startRedisServer, type RedisServerProcess } from '@labelq/shared/redis-server-process';
import { createTestBucket, freshName, missingTestServices } from './harness/services.ts';
import { samplePhoto } from './support/hostile-images.ts';
import { labelqEnv, runLabelq, startLabelq, type Finished, type RunningLabelq } from './support/labelq-process.ts';
import { dumpRedis, secretsIn } from './support/secret-scan.ts';
import { freeLoopbackPort } from './support/free-port.ts';

/**
 * Credentials never appear in logs, errors or results. Real processes run with recognisable secrets (a Redis
 * password, S3 keys) at debug log level; failures are provoked (a wrong Redis password, S3 keys the store does
 * not know, an unreachable store, a missing bucket); then stdout, stderr, the records, the jobs' failedReasons
 * and everything else in Redis are searched for the secrets (plain, percent-encoded and base64).
 */
const missing = missingTestServices('s3');
const redisSecret = 'labelq-redis-SECRET-7f3a9c';
const wrongRedisSecret = 'labelq-wrong-redis-SECRET-1b2c';
const s3KeyId = 'AKIALABELQSECRETID42';
const s3Secret = 'labelq-s3-SECRET-9d8e7f';
const secrets = [redisSecret, wrongRedisSecret, s3KeyId, s3Secret];

describe.skipIf(missing !== undefined)('credentials stay out of logs, errors and results', () => {
  const work = mkdtempSync(join(tmpdir(), 'labelq-secrets-'));
  const outDir = join(work, 'out');
  let redis: RedisServerProcess | undefined;
  const workers: RunningLabelq[] = [];
  const queues: Queue[] = [];

  beforeAll(async () => {
    redis = await startRedisServer({ password: redisSecret });
    writeFileSync(join(work, 'photo.jpg'), samplePhoto('n01440764_tench.JPEG'));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
    await Promise.all(queues.map((queue) => queue.close()));
    await redis?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const env = (queue: string, extra: Record<string, string>): NodeJS.ProcessEnv =>
    labelqEnv(queue, {
      REDIS_URL: redis!.url,
      AWS_ACCESS_KEY_ID: s3KeyId,
      AWS_SECRET_ACCESS_KEY: s3Secret,
      LABELQ_DEVICE: 'cpu',
      LABELQ_INTRA_OP_THREADS: '1',
      LABELQ_LOG_LEVEL: 'debug',
      ...extra,
    });

  const expectNoSecrets = (what: string, text: string): void => {
    expect(secretsIn(text, secrets), `${what} shows a secret:\n${text.slice(0, 4000)}`).toEqual([]);
  };

  it('a wrong Redis password: the CLI and a worker say so without showing either password', { timeout: 90_000 }, async () => {
    const wrongUrl = redis!.url.replace(encodeURIComponent(redisSecret), encodeURIComponent(wrongRedisSecret));
    expect(wrongUrl).toContain(wrongRedisSecret);
    const status = await runLabelq(['status', 'some-run'], env(freshName('secrets'), { REDIS_URL: wrongUrl }));
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/WRONGPASS|NOAUTH|password|Could not connect/i);
    expectNoSecrets('labelq status', status.stdout + status.stderr);

    const worker = startLabelq(['worker'], env(freshName('secrets'), { REDIS_URL: wrongUrl }));
    workers.push(worker);
    // It keeps trying (a running worker waits for Redis); wait until it has met the refusal a few times.
    const deadline = performance.now() + 45_000;
    while ((worker.output().match(/WRONGPASS/g) ?? []).length < 4 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const exit = await worker.stop('SIGTERM');
    expect(exit.stdout + exit.stderr).toMatch(/WRONGPASS/);
    expectNoSecrets('labelq worker', exit.stdout + exit.stderr);

    const badConfig = await runLabelq(['status', 'x'], env(freshName('secrets'), { REDIS_URL: `http://:${redisSecret}@127.0.0.1:1` }));
    expect(badConfig.stderr).toContain('CONFIG_INVALID');
    expectNoSecrets('CONFIG_INVALID', badConfig.stdout + badConfig.stderr);
  });

  it('S3 keys the store does not know, an unreachable store, a missing bucket: records, failedReasons, logs and Redis stay clean', { timeout: 240_000 }, async () => {
    const bucket = await createTestBucket('secrets');
    const photo = join(work, 'photo.jpg');
    const out = pathToFileURL(outDir).href;
    const scenarios: { name: string; env: Record<string, string>; jobs: Omit<JobData, 'v' | 'run' | 'chunk'>[] }[] = [
      {
        name: 'unknown S3 keys on the real store',
        env: {},
        jobs: [
          { out, uris: [`s3://${bucket}/images/tench.jpg`] }, // reading: a 403 error record
          { out: `s3://${bucket}/results/`, uris: [photo] }, // writing the record: STORE_UNAVAILABLE
          { out: 's3://labelq-no-such-bucket-secrets/results/', uris: [photo] }, // a missing bucket
        ],
      },
      {
        name: 'an unreachable store',
        env: { S3_ENDPOINT: `http://127.0.0.1:${await freeLoopbackPort()}` },
        jobs: [
          { out, uris: [`s3://${bucket}/images/tench.jpg`] }, // SOURCE_UNAVAILABLE
          { out: `s3://${bucket}/results/`, uris: [photo] }, // STORE_UNAVAILABLE
        ],
      },
    ];
    const failedReasons: string[] = [];
    for (const scenario of scenarios) {
      const queueName = freshName('secrets');
      const worker = startLabelq(['worker'], env(queueName, scenario.env));
      workers.push(worker);
      const queue = new Queue(queueName, { connection: createRedisConnection(redis!.url, 'queue'), prefix: 'bull' });
      queues.push(queue);
      const run = `secrets-${queues.length}`;
      const jobs: Job[] = await queue.addBulk(
        scenario.jobs.map((job, chunk) => ({
          name: labelJobName,
          data: { v: 1, run, chunk, ...job } satisfies JobData,
          opts: { jobId: jobIdFor(run, chunk), attempts: 1 },
        })),
      );
      const deadline = performance.now() + 120_000;
      let finished = 0;
      while (performance.now() < deadline) {
        const states = await Promise.all(jobs.map((job) => queue.getJobState(job.id!)));
        finished = states.filter((state) => state === 'completed' || state === 'failed').length;
        if (finished === jobs.length) break;
        expect(worker.child.exitCode, worker.output()).toBeNull();
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(finished, `${scenario.name}: ${worker.output().slice(-3000)}`).toBe(jobs.length);
      const failed = await queue.getJobs(['failed']);
      expect(failed.length, scenario.name).toBeGreaterThanOrEqual(1);
      failedReasons.push(...failed.map((job) => job.failedReason));
      const exit: Finished = await worker.stop('SIGTERM');
      expectNoSecrets(`worker output (${scenario.name})`, exit.stdout + exit.stderr);
    }
    expect(failedReasons.join('\n')).toMatch(/STORE_UNAVAILABLE/);
    expect(failedReasons.join('\n')).toMatch(/SOURCE_UNAVAILABLE/);
    expectNoSecrets('failedReasons', failedReasons.join('\n'));

    const records = readdirSync(outDir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'))
      .join('\n');
    expect(records).toMatch(/"code":"FETCH_FORBIDDEN"/);
    expectNoSecrets('records', records);

    const everything = createRedisConnection(redis!.url, 'command');
    try {
      expectNoSecrets('Redis (jobs, failedReasons, run registry)', await dumpRedis(everything));
    } finally {
      everything.disconnect();
    }
  });
});

