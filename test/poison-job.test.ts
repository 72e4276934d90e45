import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIdFor } from '@labelq/shared/job';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { RunRegistry } from '@labelq/shared/run-registry';
import type { FailedReport } from '@labelq/producer/operator/failed';
import { deleteQueueKeys } from '@labelq/producer/test-helpers';
import { createTestBucket, freshName, missingTestServices, testRedisUrl, testS3Client } from './harness/services.ts';
import { labelqEnv, runLabelq, startLabelq, type RunningLabelq } from './support/labelq-process.ts';
import { waitUntil } from './support/wait-until.ts';

/**
 * A poison job on real services. Two chunks of a run are labelled; two more are appended and taken by a worker
 * whose store rejects every write (its S3 secret key is wrong): each of those jobs is tried exactly
 * LABELQ_JOB_ATTEMPTS = 2 times, 200 ms backoff, and ends in BullMQ's failed set with the STORE_UNAVAILABLE
 * reason. `labelq failed` lists them; after the worker is fixed, `labelq retry` sends back exactly those two
 * jobs (the completed ones are not run again) and `labelq verify` passes.
 */
const missing = missingTestServices('redis', 's3');


describe.skipIf(missing !== undefined)('poison jobs: bounded retries, labelq failed, labelq retry', () => {
  const queueName = freshName('poison');
  const workers: RunningLabelq[] = [];
  let dir: string;
  const redis = createRedisConnection(testRedisUrl(), 'command');
  const registry = new RunRegistry(redis, 'bull', queueName);
  const queue = new Queue(queueName, { connection: redis, prefix: 'bull' });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labelq-poison-'));
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
    await queue.close();
    await deleteQueueKeys(redis, 'bull', queueName);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails a job after exactly 2 attempts with STORE_UNAVAILABLE; retry re-runs only the failed jobs', { timeout: 180_000 }, async () => {
    const bucket = await createTestBucket('poison');
    const out = `s3://${bucket}/out/`;
    const run = 'poison-run';
    const env = labelqEnv(queueName, { LABELQ_DEVICE: 'null', LABELQ_JOB_ATTEMPTS: '2', LABELQ_JOB_BACKOFF_MS: '200', LABELQ_STORE_RETRY_ATTEMPTS: '1' });
    const badStoreEnv = { ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' };
    const uris = Array.from({ length: 8 }, (_, i) => `/data/poison/img-${i}.jpg`);
    const manifest = join(dir, 'list.txt');

    // Chunks 0 and 1 are labelled by a sound worker.
    await writeFile(manifest, uris.slice(0, 4).join('\n') + '\n');
    const first = await runLabelq(['enqueue', manifest, '--run', run, '--chunk', '2', '--out', out], env);
    expect(first.code, first.stderr).toBe(0);
    workers.push(startLabelq(['worker'], env));
    await waitUntil('chunks 0 and 1 are done', async () => (await registry.status(run)).jobsDone === 2);
    await workers.pop()!.stop();
    const completedBefore = await Promise.all([0, 1].map(async (chunk) => (await queue.getJob(jobIdFor(run, chunk)))?.finishedOn));

    // Chunks 2 and 3 are appended and meet a worker whose every store write is refused.
    await writeFile(manifest, uris.join('\n') + '\n');
    const second = await runLabelq(['enqueue', manifest, '--run', run, '--chunk', '2', '--out', out], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/jobs\s+4 \(2 added, 2 were already enqueued\)/);
    const badWorker = startLabelq(['worker'], badStoreEnv);
    workers.push(badWorker);
    await waitUntil('chunks 2 and 3 are failed', async () => (await registry.status(run)).jobsFailed === 2);
    const failedJobs = await queue.getJobs(['failed']);
    expect(failedJobs.map((job) => job.id).sort()).toEqual([jobIdFor(run, 2), jobIdFor(run, 3)]);
    for (const job of failedJobs) {
      expect(job.attemptsMade).toBe(2);
      expect(job.failedReason).toMatch(/^STORE_UNAVAILABLE: Could not write s3:\/\//);
    }
    // Nothing else happens to them: no third attempt.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await queue.getJobCounts('failed', 'wait', 'delayed', 'active'))).toEqual({ failed: 2, wait: 0, delayed: 0, active: 0 });
    await badWorker.stop();

    const listed = await runLabelq(['failed', run], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`Failed jobs of run ${run}: 2 (4 images)`);
    expect(listed.stdout).toMatch(/chunk 2 \(job poison-run\.00000002, 2 images, 2 attempts\): STORE_UNAVAILABLE: Could not write/);
    expect(listed.stdout).toContain('Failed images (error records): 0');
    const listedJson = JSON.parse((await runLabelq(['failed', run, '--json'], env)).stdout) as FailedReport;
    expect(listedJson.jobs.map((job) => [job.chunk, job.attemptsMade, job.reason.split(':')[0]])).toEqual([
      [2, 2, 'STORE_UNAVAILABLE'],
      [3, 2, 'STORE_UNAVAILABLE'],
    ]);

    const notYet = await runLabelq(['verify', run], env);
    expect(notYet.code).toBe(1);
    expect(notYet.stdout).toContain('URIs without a record: 4');

    // The store is fixed (a worker with the right key); retry sends back the two failed jobs, and only them.
    workers.push(startLabelq(['worker'], env));
    const retried = await runLabelq(['retry', run], env);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toContain(`Run ${run}: 2 failed jobs sent back to the queue: chunks 2, 3.`);
    // The registry says done just before BullMQ moves the job to completed: wait for both.
    await waitUntil('all four chunks are done and their jobs completed', async () => {
      const status = await registry.status(run);
      return status.jobsDone === 4 && status.finished && (await queue.getJobCounts('completed')).completed === 4;
    });
    const status = await registry.status(run);
    expect(status).toMatchObject({ jobsFailed: 0, imagesDone: 8, imagesQueued: 0 });
    for (const chunk of [2, 3]) {
      const job = await queue.getJob(jobIdFor(run, chunk));
      expect(await job?.getState()).toBe('completed');
      expect(job?.attemptsMade).toBe(1); // attempts were reset by the retry
    }
    const completedAfter = await Promise.all([0, 1].map(async (chunk) => (await queue.getJob(jobIdFor(run, chunk)))?.finishedOn));
    expect(completedAfter).toEqual(completedBefore);
    await testS3Client().send(new HeadObjectCommand({ Bucket: bucket, Key: `out/${run}/records/00000003.jsonl` }));

    const verified = await runLabelq(['verify', run], env);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toContain('8 URIs enqueued in 4 chunks');
    const noneLeft = await runLabelq(['failed', run], env);
    expect(noneLeft.stdout).toContain(`Failed jobs of run ${run}: 0`);
  });
});
