import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Router } from 'express';

/** Where bull-board's queue views live on the dashboard. */
export const queueViewsPath = '/queues';

/** bull-board's views of the labelling queue (jobs by state, their data, failed reasons), as an Express router. */
export function bullBoardRouter(queue: Queue, queueActions: boolean): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(queueViewsPath);
  createBullBoard({
    queues: [new BullMQAdapter(queue, { readOnlyMode: !queueActions })],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'labelq queue', miscLinks: [{ text: 'Runs', url: '/' }] } },
  });
  return serverAdapter.getRouter() as Router;
}
