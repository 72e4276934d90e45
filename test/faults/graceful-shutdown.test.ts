import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { startFaultServices, type FaultServices } from '../support/fault-services.ts';
import { writeImageCopiesManifest } from '../support/image-copies.ts';
import { runLabelq } from '../support/labelq-process.ts';
import { printFigures, tallyRecords, waitForRun } from '../support/run-outcome.ts';
import { WorkerFleet } from '../support/worker-fleet.ts';

/**
 * SIGTERM while a worker holds jobs it cannot finish before LABELQ_SHUTDOWN_TIMEOUT_MS: at the deadline it
 * hands them back (moveToWait: no attempt used, lock released) and exits. The jobs are then waiting, not
 * active, with no lock: another worker takes them at once instead of after the lock duration.
 */
const shutdownTimeoutMs = 1_000;

describe('graceful shutdown of a busy worker', () => {
  let services: FaultServices;
  let fleet: WorkerFleet | undefined;
  beforeAll(async () => {
    services = await startFaultServices({ s3: false });
  });
  afterAll(async () => {
    await fleet?.stopAll('SIGKILL');
    await services?.close();
  });

  it('hands the jobs in flight back at the deadline, without using an attempt', { timeout: 240_000 }, async () => {
    const { manifest, uris } = await writeImageCopiesManifest(join(services.dir, 'images'), 1);
    // Two jobs of 250 images, both held at once, decoded one image at a time: each takes seconds.
    const env = services.env('shutdown', {
      LABELQ_CONCURRENCY: '2',
      LABELQ_DECODE_CONCURRENCY: '1',
      LABELQ_BATCH_SIZE: '8',
      LABELQ_SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
    });
    const enqueue = await runLabelq(['enqueue', manifest, '--run', 'shutdown', '--chunk', '250', '--out', join(services.dir, 'out')], env);
    expect(enqueue.code, enqueue.stderr).toBe(0);

    const connection = createRedisConnection(services.redis.url, 'worker');
    const queue = new Queue('shutdown', { connection, prefix: 'bull' });
    try {
      fleet = new WorkerFleet(env);
      const [first] = fleet.start(1);
      const waitStarted = performance.now();
      while ((await queue.getActiveCount()) < 2) {
        expect(performance.now() - waitStarted, 'the worker never took both jobs').toBeLessThan(120_000);
        expect(first!.child.exitCode, first!.output()).toBeNull();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));

      const signalledAt = performance.now();
      const exit = await fleet.stop(first!, 'SIGTERM');
      const exitMs = performance.now() - signalledAt;
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.stdout + exit.stderr).toMatch(/handing them back/);

      const counts = await queue.getJobCounts('active', 'wait', 'completed', 'failed', 'delayed');
      const jobs = await queue.getJobs(['wait'], 0, -1);
      const locks = await Promise.all(jobs.map((job) => connection.exists(`bull:shutdown:${job.id}:lock`)));
      expect(counts).toMatchObject({ active: 0, failed: 0, delayed: 0 });
      expect(counts['wait']).toBeGreaterThanOrEqual(1);
      expect(locks.every((exists) => exists === 0)).toBe(true);
      for (const job of jobs) expect(job.attemptsMade, `job ${job.id}`).toBe(0);

      // Another worker takes the handed-back jobs straight away and finishes the run.
      const secondStarted = performance.now();
      fleet.start(1);
      const status = await waitForRun(services.redis.url, 'shutdown', 'shutdown', { timeoutMs: 180_000 });
      const results = await runLabelq(['results', 'shutdown'], env);
      expect(results.code, results.stderr).toBe(0);
      const tally = tallyRecords(results.stdout, uris);
      printFigures('graceful-shutdown', {
        shutdownTimeoutMs,
        exitSecondsAfterSigterm: +(exitMs / 1000).toFixed(2),
        jobsHandedBack: counts['wait'],
        jobsActiveAfterExit: counts['active'],
        locksLeft: locks.filter((exists) => exists !== 0).length,
        attemptsUsedByHandBack: jobs.reduce((sum, job) => sum + job.attemptsMade, 0),
        secondWorkerFinishedSeconds: +((performance.now() - secondStarted) / 1000).toFixed(1),
        ...tally,
      });
      expect(exitMs).toBeLessThan(shutdownTimeoutMs + 10_000);
      expect(status.jobsFailed).toBe(0);
      expect(tally).toEqual({ records: uris.length, missing: 0, duplicated: 0, unexpected: 0, errorRecords: 0 });
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});
