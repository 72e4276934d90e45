import { mkdtemp, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '@labelq/shared/config';
import { recordSchema } from '@labelq/shared/record';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { RunRegistry } from '@labelq/shared/run-registry';
import { createTestBucket, freshName, missingTestServices, sharedDataDir, testS3Client } from './harness/services.ts';
import { labelqEnv, runLabelq, startLabelq, type RunningLabelq } from './support/labelq-process.ts';
import { writeTinyModel } from './support/tiny-model.ts';

/**
 * A scheduled back-fill end to end on the real services: `labelq schedule add --every`, one `labelq worker`
 * process (a tiny CNN: the labels do not matter) that both fires the schedule and labels its runs,
 * `labelq status <run> --watch` until each run ends, new objects uploaded between firings, `labelq results`
 * and `labelq runs`. Also `--watch` on a run whose job fails: it ends with status 1 and says so.
 */
const missing = missingTestServices('redis', 's3');
const imagesDir = join(sharedDataDir(), 'imagenet-sample');
const imageFiles = readdirSync(imagesDir).filter((file) => file.endsWith('.JPEG')).sort().slice(0, 5);

describe.skipIf(missing !== undefined)('scheduled back-fill labelled by a worker process; status --watch', () => {
  let dir: string;
  let cardPath: string;
  let bucket: string;
  let env: NodeJS.ProcessEnv;
  let config: Config;
  let redis: Redis;
  let worker: RunningLabelq | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labelq-schedule-e2e-'));
    cardPath = await writeTinyModel(dir);
    bucket = await createTestBucket('schedule-e2e');
    env = labelqEnv(freshName('schedule-e2e'), { LABELQ_DEVICE: 'cpu', LABELQ_INTRA_OP_THREADS: '1', LABELQ_MODEL: cardPath });
    config = loadConfig({}, env);
    redis = createRedisConnection(config.redisUrl!, 'command');
  });

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await redis?.quit();
    await rm(dir, { recursive: true, force: true });
  });

  const upload = async (file: string): Promise<void> => {
    await testS3Client().send(new PutObjectCommand({ Bucket: bucket, Key: `photos/${file}`, Body: readFileSync(join(imagesDir, file)) }));
  };

  const nextRun = async (known: Set<string>, timeoutMs = 60_000): Promise<string> => {
    const registry = new RunRegistry(redis, config.bullPrefix, config.queueName);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = (await registry.listRunIds()).find((id) => !known.has(id));
      if (run !== undefined) return run;
      expect(worker?.child.exitCode ?? null, worker?.output()).toBeNull();
      if (Date.now() > deadline) throw new Error(`no new run within ${timeoutMs} ms; worker output:\n${worker?.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  const watchAndRead = async (run: string): Promise<string[]> => {
    const watch = await runLabelq(['status', run, '--watch', '--interval-ms', '200'], env);
    expect(watch.code, watch.stderr).toBe(0);
    expect(watch.stdout).toMatch(new RegExp(`^Run ${run} finished: (\\d+) of \\1 images have records \\(0 error records\\), 0 failed jobs`));
    // Not a terminal: plain progress lines, the last one at 100 %.
    expect(watch.stderr).toMatch(new RegExp(`\\[${run}\\] (\\d+)/\\1 images \\(100\\.0%\\), [\\d.-]+ images/s, ETA 0 s, 0 item errors, 0 failed jobs\\n$`));
    const results = await runLabelq(['results', run], env);
    expect(results.code, results.stderr).toBe(0);
    return results.stdout
      .trim()
      .split('\n')
      .map((line) => recordSchema.parse(JSON.parse(line)).uri)
      .sort();
  };

  it('each firing labels exactly the objects that are new since the last one', { timeout: 300_000 }, async () => {
    for (const file of imageFiles.slice(0, 3)) await upload(file);
    const add = await runLabelq(['schedule', 'add', 'backfill', '--every', '1500', '--source', `s3://${bucket}/photos/`, '--out', `s3://${bucket}/results/`], env);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('model     tiny-cnn-224');
    worker = startLabelq(['worker'], env);

    const first = await nextRun(new Set());
    expect(await watchAndRead(first)).toEqual(imageFiles.slice(0, 3).map((file) => `s3://${bucket}/photos/${file}`));

    for (const file of imageFiles.slice(3)) await upload(file);
    const known = new Set([first]);
    const later: string[] = [];
    // The uploads may straddle a firing: collect runs until they hold both new objects.
    while (later.length < 2) {
      const run = await nextRun(known);
      known.add(run);
      later.push(...(await watchAndRead(run)));
    }
    expect(later.sort()).toEqual(imageFiles.slice(3).map((file) => `s3://${bucket}/photos/${file}`));

    const runs = await runLabelq(['runs'], env);
    expect(runs.code, runs.stderr).toBe(0);
    for (const run of known) expect(runs.stdout).toMatch(new RegExp(`^${run}\\s+finished\\s`, 'm'));
    const removed = await runLabelq(['schedule', 'remove', 'backfill'], env);
    expect(removed.code, removed.stderr).toBe(0);
  });

  it('status --watch ends with status 1 and a summary when a job fails', { timeout: 180_000 }, async () => {
    // The run's output bucket is deleted after the run is enqueued and before a worker takes its job (its own
    // queue, no worker yet); with one attempt the job then fails for good.
    const doomedEnv = { ...env, LABELQ_QUEUE: freshName('doomed'), LABELQ_JOB_ATTEMPTS: '1' };
    const outBucket = await createTestBucket('doomed');
    for (const file of imageFiles) {
      await testS3Client().send(new PutObjectCommand({ Bucket: bucket, Key: `doomed/${file}`, Body: readFileSync(join(imagesDir, file)) }));
    }
    const enqueue = await runLabelq(['enqueue', `s3://${bucket}/doomed/`, '--run', 'doomed', '--out', `s3://${outBucket}/results/`], doomedEnv);
    expect(enqueue.code, enqueue.stderr).toBe(0);
    const listed = await testS3Client().send(new ListObjectsV2Command({ Bucket: outBucket }));
    for (const object of listed.Contents ?? []) await testS3Client().send(new DeleteObjectCommand({ Bucket: outBucket, Key: object.Key }));
    await testS3Client().send(new DeleteBucketCommand({ Bucket: outBucket }));
    const doomedWorker = startLabelq(['worker'], doomedEnv);
    let watch;
    try {
      watch = await runLabelq(['status', 'doomed', '--watch', '--interval-ms', '200'], doomedEnv);
    } finally {
      await doomedWorker.stop();
    }
    expect(watch.code).toBe(1);
    expect(watch.stdout).toMatch(/^Run doomed failed: 1 of 1 jobs failed \(5 images without records\); 0 of 5 images have records .*First failed job 0: STORE_UNAVAILABLE: /);
    const missingRun = await runLabelq(['status', 'no-such-run', '--watch'], env);
    expect(missingRun.code).toBe(1);
    expect(missingRun.stderr).toMatch(/RUN_NOT_FOUND: There is no run "no-such-run"/);
  });
});
