import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '@labelq/shared/config';
import { createLogger } from '@labelq/shared/logger';
import { readModelCard } from '@labelq/shared/model-card';
import { createLabelQueue } from '@labelq/shared/queue';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { RunRegistry } from '@labelq/shared/run-registry';
import { createScheduleQueue } from '@labelq/producer/schedule/schedule-queue';
import { ScheduleHistory } from '@labelq/producer/schedule/schedule-history';
import { fireSchedule } from '@labelq/producer/schedule/fire-schedule';
import { enqueueSource } from '@labelq/producer/enqueue';
import { startScheduleWorker, type RunningScheduleWorker } from '@labelq/worker/schedule-worker';
import { createTestBucket, freshName, missingTestServices, sharedDataDir, testS3Client } from './harness/services.ts';
import { labelqEnv, runLabelq } from './support/labelq-process.ts';
import { writeTinyModel } from './support/tiny-model.ts';

/**
 * Scheduled back-fills on the real Redis and S3 server, without inference: `labelq schedule add` makes a BullMQ
 * job scheduler that fires every 300 ms; two schedule workers (what every `labelq worker` runs) process the
 * firings. Each firing enqueues, as a new run, only the objects no earlier firing enqueued (or whose ETag
 * changed); no label worker runs, so the runs' jobs stay in the labelling queue where the test reads them.
 */
const missing = missingTestServices('redis', 's3');
const imagesDir = join(sharedDataDir(), 'imagenet-sample');
const imageFiles = readdirSync(imagesDir).filter((file) => file.endsWith('.JPEG')).sort().slice(0, 8);

describe.skipIf(missing !== undefined)('labelq schedule: firings enqueue only what is new', () => {
  let dir: string;
  let cardPath: string;
  let bucket: string;
  let queueName: string;
  let env: NodeJS.ProcessEnv;
  let config: Config;
  let redis: Redis;
  const scheduleWorkers: RunningScheduleWorker[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labelq-schedule-'));
    cardPath = await writeTinyModel(dir);
    bucket = await createTestBucket('schedule');
    queueName = freshName('schedule');
    env = labelqEnv(queueName);
    config = loadConfig({}, env);
    redis = createRedisConnection(config.redisUrl!, 'command');
  });

  afterAll(async () => {
    await Promise.all(scheduleWorkers.map((worker) => worker.close()));
    await redis?.quit();
    await rm(dir, { recursive: true, force: true });
  });

  const upload = async (key: string, body: Buffer): Promise<void> => {
    await testS3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  };
  const image = (index: number): Buffer => readFileSync(join(imagesDir, imageFiles[index % imageFiles.length]!));

  /** Run id -> the URIs its jobs hold, read from the labelling queue (nobody labels them in this test). */
  const enqueuedRuns = async (): Promise<Map<string, string[]>> => {
    const queue = createLabelQueue(config, redis);
    const jobs = await queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
    const runs = new Map<string, string[]>();
    for (const job of jobs) runs.set(job.data.run, [...(runs.get(job.data.run) ?? []), ...job.data.uris].sort());
    return runs;
  };

  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('refuses a bad cron expression with a CONFIG_INVALID sentence, and adds nothing', async () => {
    const bad = await runLabelq(['schedule', 'add', 'bad', '--cron', '61 * * * *', '--source', `s3://${bucket}/photos/`, '--model', cardPath], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/CONFIG_INVALID: --cron "61 \* \* \* \*" is not a valid cron expression: .*61.*Example: "0 2 \* \* \*"/);
    const fields = await runLabelq(['schedule', 'add', 'bad', '--cron', 'every night', '--source', `s3://${bucket}/photos/`, '--model', cardPath], env);
    expect(fields.code).toBe(1);
    expect(fields.stderr).toMatch(/CONFIG_INVALID: --cron "every night" is not a cron expression: it has 2 fields/);
    const both = await runLabelq(['schedule', 'add', 'bad', '--source', `s3://${bucket}/photos/`, '--model', cardPath], env);
    expect(both.stderr).toMatch(/CONFIG_INVALID: A schedule needs exactly one of --cron/);
    const zone = await runLabelq(['schedule', 'add', 'bad', '--cron', '0 2 * * *', '--tz', 'Mars/Olympus', '--source', `s3://${bucket}/photos/`, '--model', cardPath], env);
    expect(zone.stderr).toMatch(/CONFIG_INVALID: --tz Mars\/Olympus is not a time zone this system knows/);
    const list = await runLabelq(['schedule', 'list'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toContain('No schedules in this queue.');
  });

  it('a firing taken by a worker with another model fails with MODEL_MISMATCH and starts no run', async () => {
    const otherEnv = labelqEnv(freshName('schedule-model'));
    const otherConfig = loadConfig({}, otherEnv);
    const add = await runLabelq(['schedule', 'add', 'other', '--every', '200', '--source', `s3://${bucket}/photos/`, '--model', cardPath], otherEnv);
    expect(add.code, add.stderr).toBe(0);
    const scheduleWorker = await startScheduleWorker({
      config: otherConfig,
      log: createLogger('schedule-test', 'silent'),
      model: { name: 'another-model', sha256: 'f'.repeat(64) },
      s3: testS3Client,
    });
    const scheduleQueue = createScheduleQueue(otherConfig, redis);
    try {
      const failed = await waitFor('a failed firing', async () => {
        const jobs = await scheduleQueue.getJobs(['failed']);
        return jobs.length > 0 ? jobs : undefined;
      });
      expect(failed[0]!.failedReason).toMatch(/^MODEL_MISMATCH: Schedule "other" labels with the model tiny-cnn-224 \(sha256 [0-9a-f]{64}\), but this worker serves another-model/);
      expect(failed[0]!.attemptsMade).toBe(1); // permanent: not retried
      expect(await new RunRegistry(redis, otherConfig.bullPrefix, otherConfig.queueName).listRunIds()).toEqual([]);
    } finally {
      await scheduleWorker.close();
      await scheduleQueue.removeJobScheduler('other');
      await scheduleQueue.close();
    }
  });

  it('a retried firing enqueues exactly what its first attempt saved, into the same run', async () => {
    const retryConfig = loadConfig({}, labelqEnv(freshName('schedule-retry')));
    const card = await readModelCard(cardPath);
    const model = { name: card.name, sha256: card.sha256 };
    const definition = { v: 1 as const, name: 'retry', source: `s3://${bucket}/nowhere/`, out: `s3://${bucket}/retry-results/`, chunkSize: 2, model };
    const history = new ScheduleHistory(redis, retryConfig.bullPrefix, retryConfig.queueName);
    const queue = createLabelQueue(retryConfig, redis);
    const registry = new RunRegistry(redis, retryConfig.bullPrefix, retryConfig.queueName);
    const deps = { queue, registry, history, s3: testS3Client, log: createLogger('schedule-test', 'silent'), workerModel: model };
    const firedAtMs = Date.UTC(2026, 10, 28, 2, 0, 0, 0);
    // What a first attempt that crashed after saving its list and adding the first chunk leaves behind.
    const saved = ['a', 'b', 'c'].map((key) => ({ uri: `s3://${bucket}/nowhere/${key}.jpg`, version: `etag:"${key}"` }));
    await history.savePending('retry', 'retry-20261128-020000-000', saved);
    await enqueueSource({
      queue,
      registry,
      run: 'retry-20261128-020000-000',
      out: definition.out,
      chunkSize: 2,
      source: { description: 'first attempt', writtenLines: false, rereadable: true, batches: async function* () { yield saved.slice(0, 2).map(({ uri }) => ({ uri })); } },
    });

    const result = await fireSchedule(definition, firedAtMs, deps);
    expect(result).toEqual({ schedule: 'retry', run: 'retry-20261128-020000-000', listed: 3, enqueued: 3 });
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs.map((job) => job.data.uris).sort()).toEqual([saved.slice(0, 2).map((e) => e.uri), [saved[2]!.uri]]);
    expect(await history.enqueuedVersions('retry', model, saved.map((e) => e.uri))).toEqual(saved.map((e) => e.version));
    expect(await history.pending('retry', 'retry-20261128-020000-000')).toBeUndefined();
    // The prefix is empty: the next firing lists nothing and starts no run.
    expect(await fireSchedule(definition, firedAtMs + 60_000, deps)).toEqual({ schedule: 'retry', run: undefined, listed: 0, enqueued: 0 });
    await queue.close();
  });

  it('labels the first objects, then exactly the new and changed ones; list and remove work', { timeout: 120_000 }, async () => {
    for (let i = 0; i < 5; i += 1) await upload(`photos/a${i}.jpg`, image(i));
    await upload('photos/notes.txt', Buffer.from('not an image'));

    const add = await runLabelq(
      ['schedule', 'add', 'nightly', '--every', '300', '--source', `s3://${bucket}/photos/`, '--out', `s3://${bucket}/results/`, '--model', cardPath, '--chunk', '2'],
      env,
    );
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/schedule\s+nightly/);
    expect(add.stdout).toMatch(/every 300 ms/);

    const card = await readModelCard(cardPath);
    const log = createLogger('schedule-test', 'warn');
    for (let i = 0; i < 2; i += 1) {
      scheduleWorkers.push(await startScheduleWorker({ config, log, model: { name: card.name, sha256: card.sha256 }, s3: testS3Client }));
    }

    const first = await waitFor('the first firing run', async () => {
      const runs = await enqueuedRuns();
      return runs.size >= 1 ? runs : undefined;
    });
    const [firstRun, firstUris] = [...first][0]!;
    expect(firstRun).toMatch(/^nightly-\d{8}-\d{6}-\d{3}$/);
    expect(firstUris).toEqual([0, 1, 2, 3, 4].map((i) => `s3://${bucket}/photos/a${i}.jpg`));

    // Several more firings find nothing new: no new run.
    const scheduleQueue = createScheduleQueue(config, redis);
    await waitFor('three firings after the first run', async () => {
      const completed = await scheduleQueue.getJobs(['completed']);
      return completed.length >= 4 ? completed : undefined;
    });
    expect([...(await enqueuedRuns()).keys()]).toEqual([firstRun]);

    // Three new objects and one changed object (new content, new ETag); one unchanged object re-uploaded as it was.
    for (let i = 5; i < 8; i += 1) await upload(`photos/a${i}.jpg`, image(i));
    await upload('photos/a1.jpg', Buffer.concat([image(1), Buffer.from('changed')]));
    await upload('photos/a2.jpg', image(2));
    // A firing may fall between two uploads: the later runs together hold each new or changed object once.
    const expected = [1, 5, 6, 7].map((i) => `s3://${bucket}/photos/a${i}.jpg`);
    const laterUris = (runs: Map<string, string[]>): string[] => [...runs].filter(([run]) => run !== firstRun).flatMap(([, uris]) => uris).sort();
    await waitFor('runs holding the new and changed objects', async () => {
      const runs = await enqueuedRuns();
      return laterUris(runs).length >= expected.length ? runs : undefined;
    });
    // Let a few more firings happen: they find nothing new.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const allRuns = await enqueuedRuns();
    expect(laterUris(allRuns)).toEqual(expected);
    for (const [run, uris] of allRuns) {
      expect(run).toMatch(/^nightly-\d{8}-\d{6}-\d{3}$/);
      expect(uris.length).toBeGreaterThan(0);
    }

    // Firings never overlapped (global concurrency 1 across both workers), and later ones found nothing new.
    expect(await scheduleQueue.getGlobalConcurrency()).toBe(1);
    const firings = (await scheduleQueue.getJobs(['completed', 'active'])).sort((a, b) => (a.processedOn ?? 0) - (b.processedOn ?? 0));
    for (let i = 1; i < firings.length; i += 1) expect(firings[i]!.processedOn!).toBeGreaterThanOrEqual(firings[i - 1]!.finishedOn!);
    const enqueuedTotal = firings.reduce((sum, job) => sum + (job.returnvalue?.enqueued ?? 0), 0);
    expect(enqueuedTotal).toBe(9);
    await scheduleQueue.close();

    const registry = new RunRegistry(redis, config.bullPrefix, config.queueName);
    expect((await registry.status(firstRun)).jobs).toBe(3); // chunks of 2

    const list = await runLabelq(['schedule', 'list'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^nightly  every 300 ms  next \\S+  s3://${bucket}/photos/ -> s3://${bucket}/results/  model tiny-cnn-224  last fired \\S+: `, 'm'));
    const json = await runLabelq(['schedule', 'list', '--json'], env);
    const listed = JSON.parse(json.stdout.trim()) as { name: string; definition: { model: { sha256: string } } };
    expect(listed).toMatchObject({ name: 'nightly', definition: { model: { sha256: card.sha256 } } });

    const history = new ScheduleHistory(redis, config.bullPrefix, config.queueName);
    expect(await redis.hlen(history.labelledKey('nightly', card))).toBe(8);
    const remove = await runLabelq(['schedule', 'remove', 'nightly'], env);
    expect(remove.code, remove.stderr).toBe(0);
    expect(remove.stdout).toContain('Removed schedule nightly.');
    expect(await redis.exists(history.labelledKey('nightly', card))).toBe(0);
    // The schedule workers still run: no firing comes after the removal.
    const runsAtRemoval = (await enqueuedRuns()).size;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await enqueuedRuns()).size).toBe(runsAtRemoval);
    expect(await redis.exists(history.labelledKey('nightly', card))).toBe(0);
    const after = await runLabelq(['schedule', 'list'], env);
    expect(after.stderr).toContain('No schedules in this queue.');
    const again = await runLabelq(['schedule', 'remove', 'nightly'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/CONFIG_INVALID: There is no schedule "nightly"/);
  });
});
