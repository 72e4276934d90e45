import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { startFaultServices, type FaultServices } from '../support/fault-services.ts';
import { writeImageCopiesManifest } from '../support/image-copies.ts';
import { runLabelq } from '../support/labelq-process.ts';
import { printFigures, tallyRecords, waitForRun } from '../support/run-outcome.ts';
import { WorkerFleet } from '../support/worker-fleet.ts';

/**
 * Worker crash: 2,000 items (the 500 photographs under 4 paths each) labelled by 3 `labelq worker` processes
 * while the test SIGKILLs a random worker holding jobs at random moments, 10 times, starting a replacement
 * each time. The jobs a killed worker held come back when their locks expire (LABELQ_LOCK_DURATION_MS,
 * LABELQ_STALLED_INTERVAL_MS: the defaults). `labelq results` must then hold exactly one record per URI.
 */
const copies = 4;
const workers = 3;
const kills = 10;

describe('worker processes killed with SIGKILL during a run', () => {
  let services: FaultServices;
  let fleet: WorkerFleet | undefined;
  beforeAll(async () => {
    services = await startFaultServices({ s3: false });
  });
  afterAll(async () => {
    await fleet?.stopAll('SIGKILL');
    await services?.close();
  });

  it(`loses and duplicates nothing after ${kills} kills`, { timeout: 420_000 }, async () => {
    const { manifest, uris } = await writeImageCopiesManifest(join(services.dir, 'images'), copies);
    const env = services.env('crash', { LABELQ_CONCURRENCY: '2', LABELQ_BATCH_SIZE: '8', LABELQ_DECODE_CONCURRENCY: '1' });
    const out = join(services.dir, 'out');
    const enqueue = await runLabelq(['enqueue', manifest, '--run', 'crash', '--chunk', '20', '--out', out], env);
    expect(enqueue.code, enqueue.stderr).toBe(0);

    // Which jobs each killed worker held (BullMQ records processedBy = labelq-worker@host:pid), and when BullMQ
    // reported each of them stalled, i.e. put back in the queue: the recovery time of a kill.
    const connection = createRedisConnection(services.redis.url, 'worker');
    const queue = new Queue('crash', { connection, prefix: 'bull' });
    const events = new QueueEvents('crash', { connection: { url: services.redis.url }, prefix: 'bull' });
    await events.waitUntilReady();
    const killedJobs = new Map<string, number>(); // job id -> kill time
    const recoveryMs: number[] = [];
    let stalledEvents = 0; // more than the jobs killed workers held would mean live workers lost locks
    events.on('stalled', ({ jobId }) => {
      stalledEvents++;
      const killedAt = killedJobs.get(jobId);
      if (killedAt === undefined) return;
      killedJobs.delete(jobId);
      recoveryMs.push(performance.now() - killedAt);
    });

    const started = performance.now();
    fleet = new WorkerFleet(env);
    fleet.start(workers);
    let finished = false;
    const done = waitForRun(services.redis.url, 'crash', 'crash', { timeoutMs: 360_000 }).finally(() => {
      finished = true;
    });

    // At random moments, kill a random worker among those holding at least one job (BullMQ's processedBy names
    // the worker process), so that every kill takes work in flight with it.
    let killed = 0;
    let lastKillAt = started;
    while (killed < kills && !finished) {
      await new Promise((resolve) => setTimeout(resolve, 800 + Math.random() * 1400));
      const active = await queue.getJobs(['active'], 0, -1);
      const heldBy = (pid: number | undefined) => active.filter((job) => job.processedBy?.endsWith(`:${pid}`));
      const busy = fleet.running().filter((worker) => heldBy(worker.child.pid).length > 0);
      const victim = busy[Math.floor(Math.random() * busy.length)];
      if (victim === undefined || finished) continue;
      const held = heldBy(victim.child.pid);
      await fleet.stop(victim, 'SIGKILL');
      killed++;
      lastKillAt = performance.now();
      for (const job of held) if (job.id !== undefined) killedJobs.set(job.id, lastKillAt);
      fleet.start(1);
    }
    const status = await done;
    const finishedAt = performance.now();
    await events.close();
    await queue.close();
    connection.disconnect();
    recoveryMs.sort((a, b) => a - b);
    const seconds = (ms: number | undefined): number | null => (ms === undefined ? null : +(ms / 1000).toFixed(1));
    expect(killed, `the run finished after only ${killed} kills: make it longer`).toBe(kills);
    expect(fleet.unexpectedExits()).toEqual([]);

    const results = await runLabelq(['results', 'crash'], env);
    expect(results.code, results.stderr).toBe(0);
    const tally = tallyRecords(results.stdout, uris);
    const figures = {
      items: uris.length,
      workers,
      kills: killed,
      ...tally,
      jobsFailed: status.jobsFailed,
      jobsHeldByKilledWorkers: recoveryMs.length + killedJobs.size,
      jobsBackInQueue: recoveryMs.length,
      stalledEventsTotal: stalledEvents,
      backAfterKillSeconds: { min: seconds(recoveryMs[0]), median: seconds(recoveryMs[Math.floor(recoveryMs.length / 2)]), max: seconds(recoveryMs.at(-1)) },
      runSeconds: +((finishedAt - started) / 1000).toFixed(1),
      finishedSecondsAfterLastKill: +((finishedAt - lastKillAt) / 1000).toFixed(1),
    };
    printFigures('worker-crash', figures);
    expect(status.jobsFailed).toBe(0);
    expect(recoveryMs.length + killedJobs.size).toBeGreaterThanOrEqual(kills);
    expect(tally).toEqual({ records: uris.length, missing: 0, duplicated: 0, unexpected: 0, errorRecords: 0 });
    expect(status.imagesDone).toBe(uris.length);

    const exits = await fleet.stopAll('SIGTERM');
    for (const exit of exits.filter((e) => e.signal !== 'SIGKILL')) expect(exit.code, exit.stderr).toBe(0);
  });
});
