import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { recordSchema } from '@labelq/shared/record';
import { startRedisServer, type RedisServerProcess } from '@labelq/shared/redis-server-process';
import { createTestBucket, freshName, missingTestServices, sharedDataDir, testS3Client } from './harness/services.ts';
import { labelqEnv, runLabelq, startLabelq, type RunningLabelq } from './support/labelq-process.ts';
import { freeLoopbackPort } from './support/free-port.ts';

/**
 * A real `labelq worker` child process with LABELQ_METRICS_PORT, scraped over HTTP: after it labels a few images
 * from S3 its counters match the records it wrote and the queue's own counts; /readyz follows the model and Redis.
 */
const missing = missingTestServices('redis', 's3');


/** One sample of a Prometheus text exposition: `name{a="1",b="2"} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with this name whose labels include `labels`; undefined when there is none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function get(port: number, path: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: await response.text() };
  } catch {
    return undefined; // not listening yet
  }
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(missing !== undefined)('worker metrics (real worker process, Redis, S3)', () => {
  const workers: RunningLabelq[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
  });

  it('counts what the records say, per stage and per error code, and exports the queue counts', { timeout: 300_000 }, async () => {
    const sample = join(sharedDataDir(), 'imagenet-sample');
    const images = readdirSync(sample).filter((name) => name.endsWith('.JPEG')).slice(0, 6);
    const bucket = await createTestBucket('metrics');
    for (const name of images) {
      await testS3Client().send(new PutObjectCommand({ Bucket: bucket, Key: `images/${name}`, Body: readFileSync(join(sample, name)) }));
    }
    await testS3Client().send(new PutObjectCommand({ Bucket: bucket, Key: 'images/zz-not-a-picture.jpg', Body: 'plain text, not a JPEG\n' }));

    const queue = freshName('metrics');
    const port = await freeLoopbackPort();
    const env = labelqEnv(queue, {
      LABELQ_DEVICE: 'cpu',
      LABELQ_INTRA_OP_THREADS: '1',
      LABELQ_BATCH_SIZE: '4',
      LABELQ_CONCURRENCY: '2',
      LABELQ_METRICS_PORT: String(port),
    });
    const enqueue = await runLabelq(['enqueue', `s3://${bucket}/images/`, '--run', 'metrics-run', '--chunk', '3', '--out', `s3://${bucket}/out/`], env);
    expect(enqueue.code, enqueue.stderr).toBe(0);

    const worker = startLabelq(['worker'], env);
    workers.push(worker);
    await waitFor('the run to finish', 240_000, async () => {
      expect(worker.child.exitCode, worker.output()).toBeNull();
      const reply = await runLabelq(['status', 'metrics-run', '--json'], env);
      return (JSON.parse(reply.stdout) as { finished: boolean }).finished ? true : undefined;
    });

    const results = await runLabelq(['results', 'metrics-run'], env);
    expect(results.code, results.stderr).toBe(0);
    const records = results.stdout.trim().split('\n').map((line) => recordSchema.parse(JSON.parse(line)));
    const labelled = records.filter((record) => !('error' in record)).length;
    const errorCodes = records.flatMap((record) => ('error' in record ? [record.error.code] : []));
    expect(records).toHaveLength(7);
    expect(labelled).toBe(6);
    expect(errorCodes).toEqual(['IMAGE_DECODE_FAILED']);

    const scrape = await get(port, '/metrics');
    expect(scrape?.status).toBe(200);
    const samples = parsePrometheus(scrape!.body);
    expect(valueOf(samples, 'labelq_images_processed_total')).toBe(labelled);
    expect(valueOf(samples, 'labelq_images_failed_total', { code: 'IMAGE_DECODE_FAILED' })).toBe(1);
    expect(samples.filter((s) => s.name === 'labelq_images_failed_total')).toHaveLength(1);
    // Every labelled image went through exactly one inference batch.
    expect(valueOf(samples, 'labelq_inference_batch_size_sum')).toBe(labelled);
    const batches = valueOf(samples, 'labelq_inference_batch_size_count')!;
    expect(batches).toBeGreaterThanOrEqual(Math.ceil(labelled / 4));
    expect(valueOf(samples, 'labelq_inference_batch_size_bucket', { le: '4' })).toBe(batches);
    // Per-stage latency: fetch per image, decode per decoded image, inference per batch, write per job.
    expect(valueOf(samples, 'labelq_stage_seconds_count', { stage: 'fetch' })).toBe(7);
    expect(valueOf(samples, 'labelq_stage_seconds_count', { stage: 'decode' })).toBe(labelled);
    expect(valueOf(samples, 'labelq_stage_seconds_count', { stage: 'inference' })).toBe(batches);
    expect(valueOf(samples, 'labelq_stage_seconds_count', { stage: 'write' })).toBe(3);
    expect(valueOf(samples, 'labelq_stage_seconds_sum', { stage: 'inference' })).toBeGreaterThan(0);
    expect(valueOf(samples, 'labelq_images_in_flight')).toBe(0);
    expect(valueOf(samples, 'labelq_jobs_in_flight')).toBe(0);
    expect(valueOf(samples, 'labelq_execution_provider', { provider: 'cpu', fallback: 'false' })).toBe(1);
    // The queue's own counts (BullMQ's Prometheus export).
    expect(valueOf(samples, 'bullmq_job_count', { queue, state: 'completed' })).toBe(3);
    expect(valueOf(samples, 'bullmq_job_count', { queue, state: 'waiting' })).toBe(0);
    expect(valueOf(samples, 'bullmq_job_count', { queue, state: 'failed' })).toBe(0);
    expect(valueOf(samples, 'bullmq_job_completed_total', { queue })).toBe(3);
    expect(valueOf(samples, 'bullmq_job_failed_total', { queue })).toBe(0);
    // Node's process metrics come along.
    expect(valueOf(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    expect(await get(port, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    expect(await get(port, '/readyz')).toEqual({ status: 200, body: 'ready\n' });
    expect((await get(port, '/nothing-here'))?.status).toBe(404);

    const exit = await worker.stop('SIGTERM');
    expect(exit.code, exit.stderr).toBe(0);
  });

  it('/readyz is 503 while Redis is unreachable and 200 once the model is loaded and Redis answers', { timeout: 180_000 }, async () => {
    const redisPort = await freeLoopbackPort();
    const metricsPort = await freeLoopbackPort();
    const env = labelqEnv(freshName('readyz'), {
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      LABELQ_DEVICE: 'cpu',
      LABELQ_INTRA_OP_THREADS: '1',
      LABELQ_METRICS_PORT: String(metricsPort),
      LABELQ_LOG_LEVEL: 'silent',
    });
    // No Redis on that port yet: the worker starts, loads its model, and is not ready.
    const worker = startLabelq(['worker'], env);
    workers.push(worker);
    let redis: RedisServerProcess | undefined;
    try {
      await waitFor('/healthz', 60_000, async () => ((await get(metricsPort, '/healthz'))?.status === 200 ? true : undefined));
      const early = await get(metricsPort, '/readyz');
      expect(early?.status).toBe(503);
      // Early on the model is still loading (and the queue worker not started); either way not ready.
      expect(early?.body).toMatch(/^not ready: (the model is still loading|Redis is unreachable)/);
      // Once the model is loaded, Redis is the only reason left.
      const modelLoaded = await waitFor('the model to load', 60_000, async () => {
        const reply = await get(metricsPort, '/readyz');
        return reply !== undefined && !reply.body.includes('model is still loading') ? reply : undefined;
      });
      expect(modelLoaded.status).toBe(503);
      expect(modelLoaded.body).toMatch(/^not ready: Redis is unreachable/);
      expect(modelLoaded.body).not.toMatch(/redis:\/\//); // no URL (a password could be in it)
      expect((await get(metricsPort, '/healthz'))?.status).toBe(200);

      redis = await startRedisServer({ port: redisPort });
      await waitFor('/readyz 200 once Redis is up', 60_000, async () => ((await get(metricsPort, '/readyz'))?.status === 200 ? true : undefined));

      await redis.kill();
      const down = await waitFor('/readyz 503 once Redis is gone', 30_000, async () => {
        const reply = await get(metricsPort, '/readyz');
        return reply?.status === 503 ? reply : undefined;
      });
      expect(down.body).toMatch(/Redis is unreachable/);
      expect((await get(metricsPort, '/healthz'))?.status).toBe(200);

      await redis.restart();
      await waitFor('/readyz 200 once Redis is back', 60_000, async () => ((await get(metricsPort, '/readyz'))?.status === 200 ? true : undefined));
      const exit = await worker.stop('SIGTERM');
      expect(exit.code, exit.stderr).toBe(0);
    } finally {
      await worker.stop('SIGKILL');
      await redis?.stop();
    }
  });
});
