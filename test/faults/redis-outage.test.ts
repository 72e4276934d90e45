import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultServices, type FaultServices } from '../support/fault-services.ts';
import { writeImageCopiesManifest } from '../support/image-copies.ts';
import { runLabelq, type Finished } from '../support/labelq-process.ts';
import { cpuSecondsOf, printFigures, tallyRecords, waitForRun } from '../support/run-outcome.ts';
import { WorkerFleet } from '../support/worker-fleet.ts';

/**
 * Redis with AOF persistence, restarted in the middle of a run, then away for 20 s in the middle of another.
 * Workers reconnect without crashing and use little CPU while they wait; a producer started during the outage
 * fails fast with REDIS_UNAVAILABLE and, run again, enqueues its run; every enqueued item ends as exactly one record.
 */
const outageMs = 20_000;

describe('Redis restarts and outages during a run', () => {
  let services: FaultServices;
  let fleet: WorkerFleet | undefined;
  const fleets: WorkerFleet[] = [];
  beforeAll(async () => {
    services = await startFaultServices({ s3: false });
  });
  afterAll(async () => {
    await Promise.all(fleets.map((f) => f.stopAll('SIGKILL')));
    await services?.close();
  });

  async function startRun(run: string, copies: number, env: NodeJS.ProcessEnv): Promise<string[]> {
    const { manifest, uris } = await writeImageCopiesManifest(join(services.dir, `images-${run}`), copies);
    const enqueue = await runLabelq(['enqueue', manifest, '--run', run, '--chunk', '20', '--out', join(services.dir, 'out')], env);
    expect(enqueue.code, enqueue.stderr).toBe(0);
    return uris;
  }

  async function untilImagesDone(queue: string, run: string, atLeast: number): Promise<void> {
    await waitForRun(services.redis.url, queue, run, { timeoutMs: 120_000, pollMs: 200, until: (status) => status.imagesDone >= atLeast });
  }

  it('a restart (SIGTERM, AOF) in the middle of a run loses nothing', { timeout: 300_000 }, async () => {
    const env = services.env('restart', { LABELQ_CONCURRENCY: '2', LABELQ_BATCH_SIZE: '8' });
    const uris = await startRun('restart', 2, env);
    fleet = new WorkerFleet(env);
    fleets.push(fleet);
    fleet.start(2);
    await untilImagesDone('restart', 'restart', uris.length / 4);

    const restartStarted = performance.now();
    await services.restartRedis();
    const restartMs = performance.now() - restartStarted;
    const status = await waitForRun(services.redis.url, 'restart', 'restart', { timeoutMs: 240_000 });
    const finishedSecondsAfterRestart = (performance.now() - restartStarted) / 1000;
    expect(fleet.unexpectedExits()).toEqual([]);

    const results = await runLabelq(['results', 'restart'], env);
    expect(results.code, results.stderr).toBe(0);
    const tally = tallyRecords(results.stdout, uris);
    printFigures('redis-restart', {
      items: uris.length,
      restartMs: Math.round(restartMs),
      finishedSecondsAfterRestart: +finishedSecondsAfterRestart.toFixed(1),
      workersAlive: fleet.running().length,
      jobsFailed: status.jobsFailed,
      ...tally,
    });
    expect(fleet.running()).toHaveLength(2);
    expect(status.jobsFailed).toBe(0);
    expect(tally).toEqual({ records: uris.length, missing: 0, duplicated: 0, unexpected: 0, errorRecords: 0 });
    await fleet.stopAll();
    fleet = undefined;
  });

  it(`Redis away for ${outageMs / 1000} s: workers wait without spinning, a producer fails fast and is run again, nothing is lost`, { timeout: 300_000 }, async () => {
    const env = services.env('outage', { LABELQ_CONCURRENCY: '2', LABELQ_BATCH_SIZE: '8' });
    const uris = await startRun('outage', 2, env);
    const late = await writeImageCopiesManifest(join(services.dir, 'images-late'), 1);
    fleet = new WorkerFleet(env);
    fleets.push(fleet);
    const workers = fleet.start(2);
    await untilImagesDone('outage', 'outage', uris.length / 4);

    // Stop Redis; halfway through the outage, start a producer; measure the workers' CPU while Redis is away.
    const outageStarted = performance.now();
    const restarted = services.restartRedis(outageMs);
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // let the jobs in flight finish their local work
    const cpuBefore = workers.map((worker) => cpuSecondsOf(worker.child.pid!) ?? 0);
    const cpuWindowStarted = performance.now();
    await new Promise((resolve) => setTimeout(resolve, outageMs / 2 - 2_000));
    const producer: Promise<Finished> = runLabelq(['enqueue', late.manifest, '--run', 'late', '--chunk', '20', '--out', join(services.dir, 'out')], env);
    await new Promise((resolve) => setTimeout(resolve, outageMs / 2 - 1_000));
    const cpuWindowSeconds = (performance.now() - cpuWindowStarted) / 1000;
    const cpuDuring = workers.map((worker, i) => (cpuSecondsOf(worker.child.pid!) ?? 0) - (cpuBefore[i] ?? 0));
    await restarted;
    const redisBackSeconds = (performance.now() - outageStarted) / 1000;

    // The producer is a short command that fails fast with a clear reason (it does not hang on a dead Redis);
    // enqueuing is idempotent (deterministic job ids), so running it again once Redis is back adds the run.
    const produced = await producer;
    expect(produced.code).toBe(1);
    expect(produced.stderr).toMatch(/REDIS_UNAVAILABLE: Could not connect to Redis at redis:\/\/127\.0\.0\.1:\d+\/? within \d+ ms/);
    const producedAgain = await runLabelq(['enqueue', late.manifest, '--run', 'late', '--chunk', '20', '--out', join(services.dir, 'out')], env);
    expect(producedAgain.code, producedAgain.stderr).toBe(0);
    const status = await waitForRun(services.redis.url, 'outage', 'outage', { timeoutMs: 240_000 });
    const finishedSecondsAfterRedisBack = (performance.now() - outageStarted) / 1000 - redisBackSeconds;
    const lateStatus = await waitForRun(services.redis.url, 'outage', 'late', { timeoutMs: 240_000 });
    expect(fleet.unexpectedExits()).toEqual([]);

    const results = await runLabelq(['results', 'outage'], env);
    expect(results.code, results.stderr).toBe(0);
    const tally = tallyRecords(results.stdout, uris);
    const lateResults = await runLabelq(['results', 'late'], env);
    const lateTally = tallyRecords(lateResults.stdout, late.uris);
    printFigures('redis-outage', {
      items: uris.length + late.uris.length,
      outageSeconds: +redisBackSeconds.toFixed(1),
      workerCpuPercentWhileAway: cpuDuring.map((seconds) => +((100 * seconds) / cpuWindowSeconds).toFixed(1)),
      producerStartedDuringOutageExit: produced.code,
      producerRerunAfterOutageExit: producedAgain.code,
      finishedSecondsAfterRedisBack: +finishedSecondsAfterRedisBack.toFixed(1),
      workersAlive: fleet.running().length,
      jobsFailed: status.jobsFailed + lateStatus.jobsFailed,
      ...tally,
      lateRun: lateTally,
    });
    expect(fleet.running()).toHaveLength(2);
    // Waiting, not spinning: well under a tenth of one core each while Redis is away.
    for (const seconds of cpuDuring) expect(seconds / cpuWindowSeconds).toBeLessThan(0.1);
    expect(status.jobsFailed + lateStatus.jobsFailed).toBe(0);
    expect(tally).toEqual({ records: uris.length, missing: 0, duplicated: 0, unexpected: 0, errorRecords: 0 });
    expect(lateTally).toEqual({ records: late.uris.length, missing: 0, duplicated: 0, unexpected: 0, errorRecords: 0 });
    const exits = await fleet.stopAll();
    for (const exit of exits) expect(exit.code, exit.stderr).toBe(0);
    fleet = undefined;
  });
});
