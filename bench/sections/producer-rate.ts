import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { BenchServices } from '../lib/services.ts';
import { enqueue, writeManifest } from '../lib/labelq-processes.ts';
import { progress } from '../lib/progress.ts';
import { syntheticUris } from './queue-runs.ts';

export interface ProducerResult {
  lines: number;
  chunk: number;
  /** Wall time of `labelq enqueue`, process start to exit. */
  wallSeconds: number;
  urisPerSecond: number;
  jobsInQueue: number;
}

/** `labelq enqueue` of an N-line manifest (synthetic URIs) into an empty queue, timed from start to exit. */
export async function measureProducer(services: BenchServices, lines: number): Promise<ProducerResult> {
  const queue = `producer-${Date.now().toString(36)}`;
  const manifest = join(services.workDir, `${queue}.txt`);
  await writeManifest(manifest, syntheticUris(lines));
  progress(`producer: enqueuing a ${lines}-line manifest`);
  const outcome = await enqueue({ ...services.env, LABELQ_QUEUE: queue }, manifest, { run: 'producer', chunk: 64, out: join(services.workDir, 'producer-out') });
  const redis = new Redis(services.redis.url);
  const jobsInQueue = await redis.llen(`bull:${queue}:wait`).finally(async () => {
    // Leave Redis lean for the next sections: these jobs are never consumed.
    await redis.flushall().catch(() => undefined);
    redis.disconnect();
  });
  const wallSeconds = outcome.wallMs / 1000;
  const result = { lines, chunk: 64, wallSeconds: Math.round(wallSeconds * 1000) / 1000, urisPerSecond: Math.round(lines / wallSeconds), jobsInQueue };
  progress(`producer: ${result.urisPerSecond} URIs/s (${result.wallSeconds} s, ${jobsInQueue} jobs waiting)`);
  return result;
}
