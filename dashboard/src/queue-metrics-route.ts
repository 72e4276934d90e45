import { Router } from 'express';
import type { Queue } from 'bullmq';

/**
 * GET /metrics — BullMQ's Prometheus export of the queue (`bullmq_job_count{queue,state}`,
 * `bullmq_job_completed_total{queue}`, `bullmq_job_failed_total{queue}`): one scrape target for the queue's counts.
 */
export function queueMetricsRoute(queue: Queue): Router {
  const router = Router();
  router.get('/metrics', async (_request, response) => {
    const text = await queue.exportPrometheusMetrics();
    response.status(200).type('text/plain; version=0.0.4; charset=utf-8').send(`${text}\n`);
  });
  return router;
}
