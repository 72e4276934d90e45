import { Router } from 'express';
import { isLabelqError } from '@labelq/shared/errors';
import type { RunStatus } from '@labelq/shared/run-registry';
import { runState } from '@labelq/producer/status-format';
import type { DashboardContext } from './dashboard-context.ts';
import { sampleRunRecords, type RecordSample } from './record-sample.ts';
import { runThroughput, type RunThroughput } from './run-throughput.ts';
import { thumbnailPath } from './thumbnail-route.ts';
import { TtlCache } from './ttl-cache.ts';

/** Runs listed by /api/runs, newest first. */
export const maxRunsListed = 100;
/** How long a status is reused: a running run's briefly, a finished run's (which rarely changes) longer, in ms. */
export const runningStatusReuseMs = 2_000;
export const finishedStatusReuseMs = 30_000;
/** How long a run's throughput and record sample are reused, in ms. */
export const runDetailReuseMs = 2_000;

/** A run's status exactly as `labelq status <run> --json` prints it. */
export function statusJson(status: RunStatus): RunStatus & { state: string } {
  return { ...status, state: runState(status) };
}

/**
 * The runs view's data, as JSON:
 *   GET /api/runs        every run's status (newest first, at most `maxRunsListed`)
 *   GET /api/runs/:run   one run: status, throughput over time, failed jobs with reasons, a sample of records
 */
export function runsApi(context: DashboardContext): Router {
  const router = Router();
  const statuses = new TtlCache<RunStatus>();
  const details = new TtlCache<{ throughput: RunThroughput; sample: RecordSample }>(100);
  const statusOf = (run: string): Promise<RunStatus> =>
    statuses.get(run, () => context.registry.status(run), (status) => (status.finished ? finishedStatusReuseMs : runningStatusReuseMs));

  router.get('/runs', async (_request, response) => {
    const ids = (await context.registry.listRunIds()).slice(-maxRunsListed).reverse();
    const runs = [];
    for (const id of ids) {
      try {
        runs.push(statusJson(await statusOf(id)));
      } catch (error) {
        if (!(isLabelqError(error) && error.code === 'RUN_NOT_FOUND')) throw error; // removed meanwhile
      }
    }
    response.json({ runs });
  });

  router.get('/runs/:run', async (request, response) => {
    const run = request.params.run;
    const status = await statusOf(run);
    const queue = context.queue;
    const { throughput, sample } = await details.get(
      run,
      async () => {
        const [throughput, sample] = await Promise.all([
          runThroughput(context.registry.redis, (jobId) => queue.toKey(jobId), run, status.jobs),
          sampleRunRecords(context.storeFor(status.meta.out), run),
        ]);
        return { throughput, sample };
      },
      () => runDetailReuseMs,
    );
    response.json({
      status: statusJson(status),
      throughput,
      failedJobs: Object.entries(status.failedReasons).map(([chunk, reason]) => ({ chunk: Number(chunk), reason })),
      sample: {
        ...sample,
        predictions: sample.predictions.map((prediction) => ({ ...prediction, thumbnail: thumbnailPath(run, prediction) })),
      },
    });
  });

  return router;
}
