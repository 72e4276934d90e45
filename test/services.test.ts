import { existsSync } from 'node:fs';
import {
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pLimit from 'p-limit';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createTestBucket,
  freshName,
  missingTestServices,
  sharedDataDir,
  testRedisUrl,
  testS3Client,
  testS3Settings,
} from './harness/services.ts';

// Proves the harness: the run's Redis and S3 server answer real clients.

describe('freshName', () => {
  it('gives unique names that are valid S3 bucket names', () => {
    const names = new Set(Array.from({ length: 1000 }, () => freshName('My Test_Case: with/odd+chars ünïcode and a very long prefix')));
    expect(names.size).toBe(1000);
    for (const name of names) {
      expect(name).toMatch(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
      expect(name).not.toContain('--');
    }
    expect(freshName('')).toMatch(/^test-/);
  });

  it('finds the shared data dir', () => {
    expect(existsSync(sharedDataDir())).toBe(true);
  });
});

const redisMissing = missingTestServices('redis');
describe.skipIf(redisMissing !== undefined)(`BullMQ on the harness Redis ${redisMissing ?? ''}`, () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('processes a job on a fresh queue', async () => {
    const queueName = freshName('services-queue');
    const connection = { url: testRedisUrl() };
    const queue = new Queue(queueName, { connection });
    closers.push(() => queue.close());
    // A Worker's blocking connection must wait forever: BullMQ requires maxRetriesPerRequest null.
    const workerConnection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    const worker = new Worker(
      queueName,
      async (job) => ({ doubled: (job.data as { n: number }).n * 2, by: process.pid }),
      { connection: workerConnection, concurrency: 2 },
    );
    closers.push(async () => {
      await worker.close();
      workerConnection.disconnect();
    });
    const events = new QueueEvents(queueName, { connection });
    closers.push(() => events.close());
    await events.waitUntilReady();

    const job = await queue.add('double', { n: 21 }, { jobId: 'job-1' });
    const result = (await job.waitUntilFinished(events, 30_000)) as { doubled: number; by: number };
    expect(result).toEqual({ doubled: 42, by: process.pid });
    expect(await queue.getJobCounts('completed', 'failed', 'waiting')).toEqual({ completed: 1, failed: 0, waiting: 0 });
    // The queue's keys carry its fresh name: nothing shared with other tests.
    const redis = new Redis(testRedisUrl());
    closers.push(async () => redis.disconnect());
    const keys = await redis.keys(`bull:${queueName}:*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
  });
});

const s3Missing = missingTestServices('s3');
describe.skipIf(s3Missing !== undefined)(`S3 on the harness server ${s3Missing ?? ''}`, () => {
  it('gives settings for the shared S3 client: path-style, WHEN_REQUIRED checksums', () => {
    const settings = testS3Settings();
    expect(settings.forcePathStyle).toBe(true);
    expect(settings.checksumMode).toBe('WHEN_REQUIRED');
    expect(settings.endpoint).toMatch(/^https?:\/\//);
  });

  it('creates a bucket; 1200 objects list exactly once with MaxKeys 500 pages; one reads back', async () => {
    const s3 = testS3Client();
    const bucket = await createTestBucket('services-list');
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));

    const keys = Array.from({ length: 1200 }, (_, i) => `run-1/part-${String(i).padStart(5, '0')}.jsonl`);
    const limit = pLimit(16);
    const putStartedAt = performance.now();
    await Promise.all(
      keys.map((key) => limit(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(`{"key":"${key}"}\n`) })))),
    );
    const putSeconds = (performance.now() - putStartedAt) / 1000;

    const listed: string[] = [];
    const pageSizes: number[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: 'run-1/', MaxKeys: 500, ContinuationToken: continuationToken }),
      );
      const pageKeys = (page.Contents ?? []).map((object) => object.Key ?? '');
      pageSizes.push(pageKeys.length);
      listed.push(...pageKeys);
      continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);

    expect(pageSizes).toEqual([500, 500, 200]);
    expect(listed).toHaveLength(1200);
    expect(new Set(listed).size).toBe(1200);
    expect(listed).toEqual([...keys].sort());

    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: keys[777] }));
    expect(await object.Body?.transformToString()).toBe(`{"key":"${keys[777]}"}\n`);
    console.info(`PUT 1200 objects at concurrency 16: ${(1200 / putSeconds).toFixed(0)} objects/s`);
  });

  it('round-trips keys with spaces, "+", unicode and other reserved characters', async () => {
    const s3 = testS3Client();
    const bucket = await createTestBucket('services-keys');
    const keys = [
      'with space/a b.jpg',
      'plus+sign/a+b.jpg',
      'unicode/Zürich 東京 🚀.jpg',
      'reserved/?&=#%2F;,@$!.jpg',
      'double//slash.jpg',
    ];
    for (const key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(key, 'utf8') }));
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect((listed.Contents ?? []).map((object) => object.Key).sort()).toEqual([...keys].sort());
    for (const key of keys) {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      expect(await object.Body?.transformToString('utf8')).toBe(key);
    }
  });
});
