import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface MetricsServer {
  port: number;
  /** Closes the HTTP server and, when it made them, the queue and Redis connection of the queue's counts. */
  close(): Promise<void>;
}

/** Longest wait for Redis to answer PING before /readyz says it is unreachable, in ms. */
export const redisPingTimeoutMs = 1_000;
/** Longest wait for the queue's counts before /metrics is answered without them, in ms. */
export const queueCountsTimeoutMs = 2_000;

/**
 * What /readyz checks: the model is loaded (the inference session is open), the BullMQ worker is taking jobs,
 * and Redis answers on every connection the worker uses. Filled in by startWorker as its parts come up.
 */
export class WorkerReadiness {
  private modelLoaded = false;
  private worker: { isRunning(): boolean } | undefined;
  private connections: Redis[] = [];

  /** The inference session is open. */
  markModelLoaded(): void {
    this.modelLoaded = true;
  }

  /** The BullMQ worker and the Redis connections whose health makes the worker ready. */
  watch(worker: { isRunning(): boolean }, connections: Redis[]): void {
    this.worker = worker;
    this.connections = connections;
  }

  /** Sentences saying why the worker is not ready; empty when it is. */
  async notReadyReasons(): Promise<string[]> {
    const reasons: string[] = [];
    if (!this.modelLoaded) reasons.push('the model is still loading');
    if (this.worker === undefined) reasons.push('the queue worker has not started yet');
    else if (!this.worker.isRunning()) reasons.push('the queue worker is not running (it is stopping or stopped)');
    const redisReasons = await Promise.all(this.connections.map((connection) => redisProblem(connection)));
    const redisReason = redisReasons.find((reason) => reason !== undefined);
    if (redisReason !== undefined) reasons.push(redisReason);
    return reasons;
  }
}

/** Undefined when the connection is up and answers PING in time; otherwise a sentence (no URL, no password). */
async function redisProblem(connection: Redis): Promise<string | undefined> {
  if (connection.status !== 'ready') return `Redis is unreachable (connection ${connection.status})`;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      connection.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer to PING within ${redisPingTimeoutMs} ms`)), redisPingTimeoutMs);
      }),
    ]);
    return undefined;
  } catch (error) {
    return `Redis is unreachable (${(error as Error).message})`;
  } finally {
    clearTimeout(timer);
  }
}

export interface MetricsServerOptions {
  /** TCP port; 0 picks a free one (see `port` of the result). */
  port: number;
  /** Address to bind. Default 0.0.0.0: Prometheus and the kubelet scrape from outside the pod. */
  host?: string;
  metrics: WorkerMetrics;
  readiness: WorkerReadiness;
  /** The queue whose counts (BullMQ's Prometheus export) are served beside the worker's own metrics. */
  queue?: { redisUrl: string; queueName: string; bullPrefix: string };
}

/**
 * /metrics (Prometheus text: the worker's metrics, then the queue's `bullmq_job_count`, `bullmq_job_completed_total`,
 * `bullmq_job_failed_total`), /healthz (200 while the process answers), /readyz (200 once the model is loaded, the
 * worker takes jobs and Redis answers; 503 with the reasons otherwise).
 */
export async function serveMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  const { metrics, readiness } = options;
  // Its own connection: commands fail at once while Redis is away, so a scrape never hangs on it.
  const queueConnection = options.queue === undefined ? undefined : createRedisConnection(options.queue.redisUrl, 'queue');
  const queue =
    options.queue === undefined || queueConnection === undefined
      ? undefined
      : new Queue(options.queue.queueName, { connection: queueConnection, prefix: options.queue.bullPrefix });
  queue?.on('error', () => undefined); // an outage shows in /readyz and in missing queue counts, not as log spam

  const metricsText = async (): Promise<string> => {
    const own = await metrics.registry.metrics();
    const queueText = queue === undefined ? '' : await queueCounts(queue);
    return queueText === '' ? own : `${own.endsWith('\n') ? own : `${own}\n`}${queueText}\n`;
  };

  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      metricsText().then(
        (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`could not collect metrics: ${String(error)}\n`),
      );
    } else if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      readiness.notReadyReasons().then(
        (reasons) =>
          reasons.length === 0
            ? response.writeHead(200, { 'content-type': 'text/plain' }).end('ready\n')
            : response.writeHead(503, { 'content-type': 'text/plain' }).end(`not ready: ${reasons.join('; ')}\n`),
        (error: unknown) => response.writeHead(503, { 'content-type': 'text/plain' }).end(`not ready: ${String(error)}\n`),
      );
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: this server answers /metrics, /healthz and /readyz\n');
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host ?? '0.0.0.0', resolve);
    });
  } catch (error) {
    await queue?.close().catch(() => undefined);
    queueConnection?.disconnect();
    throw error;
  }
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue?.close().catch(() => undefined);
      if (queueConnection !== undefined) await queueConnection.quit().catch(() => queueConnection.disconnect());
    },
  };
}

/** BullMQ's Prometheus export of the queue, or '' when Redis does not answer in time (the scrape still succeeds). */
async function queueCounts(queue: Queue): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      queue.exportPrometheusMetrics(),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(''), queueCountsTimeoutMs);
      }),
    ]);
  } catch {
    return '';
  } finally {
    clearTimeout(timer);
  }
}
