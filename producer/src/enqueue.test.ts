import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '@labelq/shared/config';
import { jobDataSchema, jobIdFor, labelJobName } from '@labelq/shared/job';
import { createLabelQueue, type LabelQueue } from '@labelq/shared/queue';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { RunRegistry } from '@labelq/shared/run-registry';
import { normaliseStoreUrl } from '@labelq/shared/store/open-store';
import { freshName, missingTestServices, testRedisUrl } from '../../test/harness/services.ts';
import { enqueueSource, type EnqueueProgress } from './enqueue.ts';
import { newRunId } from './run-id.ts';
import { localManifestSource } from './sources/manifest-source.ts';
import { deleteQueueKeys } from './test-helpers.ts';

const missing = missingTestServices('redis');

describe.skipIf(missing !== undefined)('enqueueSource (real Redis)', () => {
  let dir: string;
  let connection: Redis;
  let config: Config;
  let queue: LabelQueue;
  let registry: RunRegistry;
  const out = normaliseStoreUrl('/tmp/labelq-enqueue-test-out');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labelq-enqueue-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    config = loadConfig({ queueName: freshName('enqueue'), redisUrl: testRedisUrl() }, {});
    connection = createRedisConnection(testRedisUrl(), 'queue');
    queue = createLabelQueue(config, connection);
    registry = new RunRegistry(connection, config.bullPrefix, config.queueName);
  });

  afterEach(async () => {
    await queue.close();
    const cleaner = createRedisConnection(testRedisUrl(), 'command');
    await deleteQueueKeys(cleaner, config.bullPrefix, config.queueName);
    await cleaner.quit();
    await connection.quit();
  });

  async function manifestOf(lines: string[], name = 'list.txt'): Promise<string> {
    const path = join(dir, `${freshName('m')}-${name}`);
    await writeFile(path, `${lines.join('\n')}\n`);
    return path;
  }

  it('makes one job per chunk with deterministic ids and valid payloads', async () => {
    const uris = Array.from({ length: 10 }, (_, i) => `s3://bucket/img-${i}.jpg`);
    const source = await localManifestSource(await manifestOf(uris), 'text');
    const run = newRunId();
    const progress: EnqueueProgress[] = [];
    const result = await enqueueSource({ queue, registry, source, run, out, chunkSize: 4, chunksPerRound: 2, onProgress: (p) => progress.push(p) });

    expect(result).toMatchObject({ run, images: 10, jobs: 3, jobsAdded: 3, skippedLines: { count: 0 } });
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 3 });
    const jobs = await Promise.all([0, 1, 2].map((chunk) => queue.getJob(jobIdFor(run, chunk))));
    expect(jobs.map((job) => job?.id)).toEqual([`${run}.00000000`, `${run}.00000001`, `${run}.00000002`]);
    expect(jobs.map((job) => job?.name)).toEqual([labelJobName, labelJobName, labelJobName]);
    expect(jobs.map((job) => jobDataSchema.parse(job?.data).uris)).toEqual([uris.slice(0, 4), uris.slice(4, 8), uris.slice(8)]);
    expect(jobs[2]?.data).toEqual({ v: 1, run, chunk: 2, out, uris: uris.slice(8) });
    expect(jobs[0]?.opts).toMatchObject({ attempts: config.jobAttempts, backoff: { type: 'exponential', delay: config.jobBackoffMs }, removeOnFail: false });

    const status = await registry.status(run);
    expect(status).toMatchObject({ images: 10, jobs: 3, imagesQueued: 10, imagesDone: 0 });
    expect(status.meta).toMatchObject({ run, out, chunkSize: 4, source: `manifest ${source.description.slice('manifest '.length)}` });
    expect(progress.at(-1)).toMatchObject({ images: 10, jobs: 3, jobsAdded: 3 });
    expect(progress).toHaveLength(2);
  });

  it('adds nothing when the same source is enqueued into the same run again', async () => {
    const source = await localManifestSource(await manifestOf(Array.from({ length: 25 }, (_, i) => `/data/${i}.jpg`)), 'text');
    const run = newRunId();
    const first = await enqueueSource({ queue, registry, source, run, out, chunkSize: 10 });
    const second = await enqueueSource({ queue, registry, source, run, out, chunkSize: 10 });
    expect(first).toMatchObject({ images: 25, jobs: 3, jobsAdded: 3 });
    expect(second).toMatchObject({ images: 25, jobs: 3, jobsAdded: 0 });
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 3 });
    expect((await registry.status(run)).images).toBe(25);
  });

  it('adds only the missing chunks when a run was half enqueued', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => `/data/${i}.jpg`);
    const run = newRunId();
    const half = await localManifestSource(await manifestOf(lines.slice(0, 15)), 'text');
    const whole = await localManifestSource(await manifestOf(lines), 'text');
    await enqueueSource({ queue, registry, source: half, run, out, chunkSize: 5 });
    const rest = await enqueueSource({ queue, registry, source: whole, run, out, chunkSize: 5 });
    expect(rest).toMatchObject({ images: 30, jobs: 6, jobsAdded: 3 });
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 6 });
  });

  it('refuses another chunk size or another output for an existing run', async () => {
    const source = await localManifestSource(await manifestOf(['/data/a.jpg', '/data/b.jpg']), 'text');
    const run = newRunId();
    await enqueueSource({ queue, registry, source, run, out, chunkSize: 1 });
    await expect(enqueueSource({ queue, registry, source, run, out, chunkSize: 2 })).rejects.toMatchObject({
      code: 'SOURCE_INVALID',
      message: expect.stringContaining('--chunk 1'),
    });
    await expect(enqueueSource({ queue, registry, source, run, out: normaliseStoreUrl('/elsewhere'), chunkSize: 1 })).rejects.toMatchObject({
      code: 'SOURCE_INVALID',
    });
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 2 });
  });

  it('enqueues nothing from a manifest with a bad line (strict), and the valid lines with skipInvalid', async () => {
    const path = await manifestOf(['/data/a.jpg', 'not/absolute.jpg', '/data/b.jpg']);
    const run = newRunId();
    await expect(enqueueSource({ queue, registry, source: await localManifestSource(path, 'text'), run, out, chunkSize: 1 })).rejects.toMatchObject({
      code: 'MANIFEST_LINE_INVALID',
      message: expect.stringContaining('line 2: '),
    });
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
    expect(await registry.getRun(run)).toBeUndefined();

    const result = await enqueueSource({ queue, registry, source: await localManifestSource(path, 'text'), run, out, chunkSize: 1, skipInvalid: true });
    expect(result).toMatchObject({ images: 2, jobs: 2, jobsAdded: 2, skippedLines: { count: 1, first: [{ line: 2, uri: 'not/absolute.jpg' }] } });
  });

  it('registers no run for a source without items', async () => {
    const run = newRunId();
    const result = await enqueueSource({ queue, registry, source: await localManifestSource(await manifestOf(['# nothing']), 'text'), run, out, chunkSize: 4 });
    expect(result).toMatchObject({ images: 0, jobs: 0, jobsAdded: 0 });
    expect(await registry.getRun(run)).toBeUndefined();
  });

  it('refuses a run id that is not valid', async () => {
    const source = await localManifestSource(await manifestOf(['/data/a.jpg']), 'text');
    await expect(enqueueSource({ queue, registry, source, run: 'bad run/id', out, chunkSize: 4 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('enqueues a 200,000-line manifest fast (prints the rate)', async () => {
    const lineCount = 200_000;
    const lines = Array.from({ length: lineCount }, (_, i) => `s3://photos/batch-${Math.floor(i / 1000)}/image-${String(i).padStart(7, '0')}.jpg`);
    const source = await localManifestSource(await manifestOf(lines), 'text');
    for (const chunkSize of [64, 1000]) {
      const run = newRunId();
      const startedMs = performance.now();
      const result = await enqueueSource({ queue, registry, source, run, out, chunkSize });
      const seconds = (performance.now() - startedMs) / 1000;
      console.log(`enqueued ${result.images} URIs in ${result.jobs} jobs (chunk ${chunkSize}) in ${seconds.toFixed(2)} s: ${Math.round(result.images / seconds)} URIs/s`);
      expect(result.images).toBe(lineCount);
      expect(result.jobs).toBe(Math.ceil(lineCount / chunkSize));
    }
  }, 120_000);
});
