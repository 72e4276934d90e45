import { copyFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIdFor } from '@labelq/shared/job';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { RunRegistry } from '@labelq/shared/run-registry';
import type { FailedReport } from '@labelq/producer/operator/failed';
import { deleteQueueKeys } from '@labelq/producer/test-helpers';
import { freshName, missingTestServices, sharedDataDir, testRedisUrl } from './harness/services.ts';
import { labelqEnv, runLabelq, startLabelq, type RunningLabelq } from './support/labelq-process.ts';
import { waitUntil } from './support/wait-until.ts';

/**
 * Failed images and `labelq retry --items` on real services and the real model (CPU): two chunks hold an image
 * that does not exist yet (FETCH_NOT_FOUND error records); `labelq failed` lists them; the images are put in
 * place, one chunk's completed job is removed from BullMQ as if it had aged out, and `labelq retry --items`
 * runs both chunks again (one retried, one added again under its job id): their record objects are replaced,
 * the untouched chunk is not rerun, and `labelq verify` passes with one record per URI.
 */
const missing = missingTestServices('redis');
const imagesDir = join(sharedDataDir(), 'imagenet-sample');
/** The real ResNet50 on 2 CPU cores, sharing them with other test files. */
const realModelTimeoutMs = 120_000;
const photos = ['n01440764_tench.JPEG', 'n01484850_great_white_shark.JPEG', 'n01494475_hammerhead.JPEG', 'n01498041_stingray.JPEG'];


describe.skipIf(missing !== undefined)('labelq failed and retry --items (real Redis, worker process, CPU model)', () => {
  const queueName = freshName('retry-items');
  let dir: string;
  let worker: RunningLabelq | undefined;
  const redis = createRedisConnection(testRedisUrl(), 'command');
  const registry = new RunRegistry(redis, 'bull', queueName);
  const queue = new Queue(queueName, { connection: redis, prefix: 'bull' });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labelq-retry-items-'));
  });

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await queue.close();
    await deleteQueueKeys(redis, 'bull', queueName);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists error records, then re-runs exactly the chunks that hold them', { timeout: 300_000 }, async () => {
    for (const photo of photos) await stat(join(imagesDir, photo));
    const late = [join(dir, 'late-0.jpg'), join(dir, 'late-1.jpg')];
    const uris = [join(imagesDir, photos[0]!), late[0]!, join(imagesDir, photos[1]!), late[1]!, join(imagesDir, photos[2]!), join(imagesDir, photos[3]!)];
    const manifest = join(dir, 'list.txt');
    await writeFile(manifest, uris.join('\n') + '\n');
    const out = join(dir, 'out');
    const run = 'items-run';
    const env = labelqEnv(queueName, { LABELQ_DEVICE: 'cpu', LABELQ_INTRA_OP_THREADS: '1', LABELQ_BATCH_SIZE: '4', LABELQ_MAX_WAIT_MS: '50' });

    const enqueue = await runLabelq(['enqueue', manifest, '--run', run, '--chunk', '2', '--out', out], env);
    expect(enqueue.code, enqueue.stderr).toBe(0);
    worker = startLabelq(['worker'], env);
    // The registry says done just before BullMQ moves a job to completed: wait for both.
    await waitUntil('the run is finished', async () => (await registry.status(run)).finished && (await queue.getJobCounts('completed')).completed === 3, realModelTimeoutMs);
    expect(await registry.status(run)).toMatchObject({ jobsDone: 3, imagesDone: 6, itemErrors: 2 });

    const listed = await runLabelq(['failed', run], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`Failed jobs of run ${run}: 0`);
    expect(listed.stdout).toContain('Failed images (error records): 2 (FETCH_NOT_FOUND 2)');
    for (const uri of late) expect(listed.stdout).toContain(`  ${uri}: FETCH_NOT_FOUND: `);
    const report = JSON.parse((await runLabelq(['failed', run, '--json'], env)).stdout) as FailedReport;
    expect(report.items.map((item) => [item.uri, item.chunk, item.code])).toEqual([
      [late[0], 0, 'FETCH_NOT_FOUND'],
      [late[1], 1, 'FETCH_NOT_FOUND'],
    ]);

    // Another code, or a code that is not an item error code: nothing is re-run / refused.
    const otherCode = await runLabelq(['retry', run, '--codes', 'FETCH_TIMEOUT'], env);
    expect(otherCode.code, otherCode.stderr).toBe(0);
    expect(otherCode.stdout).toBe(`Run ${run}: 0 failed jobs sent back to the queue.\n`);
    const badCode = await runLabelq(['retry', run, '--codes', 'STORE_UNAVAILABLE'], env);
    expect(badCode.code).toBe(1);
    expect(badCode.stderr).toMatch(/CONFIG_INVALID: --codes "STORE_UNAVAILABLE" must list item error codes/);

    // The images arrive; chunk 1's completed job has aged out of BullMQ.
    for (const [i, path] of late.entries()) await copyFile(join(imagesDir, photos[i]!), path);
    await (await queue.getJob(jobIdFor(run, 1)))!.remove();
    const untouched = (await stat(join(out, run, 'records', '00000002.jsonl'))).mtimeMs;
    const chunk2FinishedOn = (await queue.getJob(jobIdFor(run, 2)))?.finishedOn;

    const retried = await runLabelq(['retry', run, '--items'], env);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toContain('2 chunks with 2 item errors run again: chunks 0, 1 (1 added again: BullMQ had removed their completed jobs).');
    await waitUntil('chunks 0 and 1 are done again', async () => {
      const status = await registry.status(run);
      return status.finished && status.jobsDone === 3;
    }, realModelTimeoutMs);
    expect(await registry.status(run)).toMatchObject({ jobsDone: 3, imagesDone: 6, itemErrors: 0, jobsFailed: 0 });
    await worker.stop();

    const after = await runLabelq(['failed', run], env);
    expect(after.stdout).toContain('Failed images (error records): 0');
    const verified = await runLabelq(['verify', run], env);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    const results = await runLabelq(['results', run], env);
    const records = results.stdout.trim().split('\n').map((line) => JSON.parse(line) as { uri: string; error?: unknown });
    expect(records.map((record) => record.uri).sort()).toEqual([...uris].sort());
    expect(records.filter((record) => record.error !== undefined)).toEqual([]);
    expect((await stat(join(out, run, 'records', '00000002.jsonl'))).mtimeMs).toBe(untouched);
    expect((await queue.getJob(jobIdFor(run, 2)))?.finishedOn).toBe(chunk2FinishedOn);
  });
});
