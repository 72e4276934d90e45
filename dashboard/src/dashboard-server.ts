import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { bullBoardRouter, queueViewsPath } from './bull-board.ts';
import type { DashboardContext } from './dashboard-context.ts';
import { jsonErrors } from './http-errors.ts';
import { queueMetricsRoute } from './queue-metrics-route.ts';
import { runsApi } from './runs-api.ts';
import { runsPageHtml } from './runs-page.ts';
import { thumbnailRoute } from './thumbnail-route.ts';

export interface DashboardOptions {
  /** Address to bind; `labelq dashboard` defaults to 127.0.0.1 (the dashboard has no authentication). */
  host: string;
  /** TCP port; 0 = a free one (see `url`). */
  port: number;
}

export interface RunningDashboard {
  /** http://host:port/ */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and closes those open; the context's connections stay the caller's. */
  close(): Promise<void>;
}

/**
 * The dashboard's web server (Express 5):
 *   /                           the runs view (runs-page.ts)
 *   /api/runs, /api/runs/:run   its data (runs-api.ts)
 *   /runs/:run/images/:c/:i     thumbnails of file:// and s3:// items named by label records (thumbnail-route.ts)
 *   /queues                     bull-board's views of the queue
 *   /metrics                    the queue's Prometheus export
 */
export async function startDashboard(context: DashboardContext, options: DashboardOptions): Promise<RunningDashboard> {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const page = runsPageHtml();
  app.get('/', (_request, response) => {
    response.status(200).set({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }).type('html').send(page);
  });
  app.use('/api', runsApi(context));
  app.use(thumbnailRoute(context));
  app.use(queueMetricsRoute(context.queue));
  app.use(queueViewsPath, bullBoardRouter(context.queue, context.queueActions));
  app.use((request, response) => {
    response.status(404).json({ error: { code: 'NOT_FOUND', message: `The dashboard has no page at ${request.path}.` } });
  });
  app.use(jsonErrors(context.log));

  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(options.port, options.host, (error?: Error) => (error === undefined ? resolve(listening) : reject(error)));
    listening.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
