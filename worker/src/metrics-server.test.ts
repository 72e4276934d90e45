import { afterEach, describe, expect, it } from 'vitest';
import { serveMetrics, WorkerReadiness, type MetricsServer } from './metrics-server.ts';
import { WorkerMetrics } from './worker-metrics.ts';

/** The HTTP side of the worker's metrics, without a queue (test/metrics.test.ts runs a real worker). */
describe('serveMetrics', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves /healthz at once, and /readyz 503 with its reasons until the model is loaded and the worker runs', async () => {
    const readiness = new WorkerReadiness();
    server = await serveMetrics({ port: 0, host: '127.0.0.1', metrics: new WorkerMetrics(), readiness });
    const url = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const early = await fetch(`${url}/readyz`);
    expect(early.status).toBe(503);
    expect(await early.text()).toBe('not ready: the model is still loading; the queue worker has not started yet\n');

    let running = true;
    readiness.markModelLoaded();
    readiness.watch({ isRunning: () => running }, []);
    const ready = await fetch(`${url}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([200, 'ready\n']);
    running = false;
    expect(await (await fetch(`${url}/readyz`)).text()).toMatch(/queue worker is not running/);
  });

  it('serves the counters in Prometheus text, failures by error code', async () => {
    const metrics = new WorkerMetrics();
    metrics.imageDone();
    metrics.imageDone();
    metrics.imageFailed('IMAGE_DECODE_FAILED');
    metrics.batch(2, 0.05);
    metrics.executionProvider('cpu', true);
    server = await serveMetrics({ port: 0, host: '127.0.0.1', metrics, readiness: new WorkerReadiness() });
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^labelq_images_processed_total 2$/m);
    expect(text).toMatch(/^labelq_images_failed_total\{code="IMAGE_DECODE_FAILED"\} 1$/m);
    expect(text).toMatch(/^labelq_inference_batch_size_sum 2$/m);
    expect(text).toMatch(/^labelq_stage_seconds_count\{stage="inference"\} 1$/m);
    expect(text).toMatch(/^labelq_execution_provider\{provider="cpu",fallback="true"\} 1$/m);
    expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
  });
});
