import type { Redis } from 'ioredis';
import { LabelqError } from './errors.ts';

/**
 * What Redis knows about runs, beside BullMQ's own job keys. All writes are idempotent (HSET of a
 * deterministic field), so a retried job or a re-run producer never counts anything twice.
 *
 * Keys, under `<bullPrefix>:<queue>:labelq:`:
 *   runs                  zset  run -> created at (ms)
 *   run:<run>             hash  meta (source, out, chunkSize, createdAt, startedAt, lastDoneAt)
 *   run:<run>:chunks      hash  chunk -> item count (set once, when the chunk's job is enqueued)
 *   run:<run>:active      hash  chunk -> item count (while a worker holds the job)
 *   run:<run>:done        hash  chunk -> "images errors" (records written; overwritten by a retry)
 *   run:<run>:failed      hash  chunk -> reason (the job is in BullMQ's failed set; removed once it completes)
 *
 * `labelq retry` calls `markRequeued` before it sends jobs back to the queue: their chunks leave `failed`,
 * `done` and `active`, so `labelq status` counts their images as queued again until a worker finishes them.
 */
export interface RunMeta {
  run: string;
  source: string;
  out: string;
  chunkSize: number;
  createdAtMs: number;
}

export interface RunStatus {
  meta: RunMeta;
  jobs: number;
  images: number;
  imagesInProgress: number;
  imagesDone: number;
  /** Items whose record is an error record (counted within imagesDone). */
  itemErrors: number;
  jobsDone: number;
  jobsFailed: number;
  imagesInFailedJobs: number;
  imagesQueued: number;
  startedAtMs: number | undefined;
  lastDoneAtMs: number | undefined;
  imagesPerSecond: number | undefined;
  /** Every job has either completed or is in the failed set. */
  finished: boolean;
  failedReasons: Record<string, string>;
}

export interface ChunkCount {
  chunk: number;
  count: number;
}

function sumValues(values: string[]): number {
  return values.reduce((total, value) => total + Number.parseInt(value, 10), 0);
}

export class RunRegistry {
  readonly redis: Redis;
  readonly keyPrefix: string;

  constructor(redis: Redis, bullPrefix: string, queueName: string) {
    this.redis = redis;
    this.keyPrefix = `${bullPrefix}:${queueName}:labelq`;
  }

  private key(run: string, part?: string): string {
    return part === undefined ? `${this.keyPrefix}:run:${run}` : `${this.keyPrefix}:run:${run}:${part}`;
  }

  /** Registers a run, or checks that an existing run with that id writes to the same place. */
  async registerRun(meta: RunMeta): Promise<RunMeta> {
    const existing = await this.getRun(meta.run);
    if (existing !== undefined) {
      if (existing.out !== meta.out) {
        throw new LabelqError(
          'SOURCE_INVALID',
          `Run "${meta.run}" already exists and writes its records to ${existing.out}, not ${meta.out}. Use another --run id or the same output.`,
        );
      }
      return existing;
    }
    await this.redis
      .multi()
      .hset(this.key(meta.run), {
        run: meta.run,
        source: meta.source,
        out: meta.out,
        chunkSize: String(meta.chunkSize),
        createdAtMs: String(meta.createdAtMs),
      })
      .zadd(`${this.keyPrefix}:runs`, meta.createdAtMs, meta.run)
      .exec();
    return meta;
  }

  async getRun(run: string): Promise<RunMeta | undefined> {
    const hash = await this.redis.hgetall(this.key(run));
    if (hash['run'] === undefined) return undefined;
    return {
      run: hash['run'],
      source: hash['source'] ?? '',
      out: hash['out'] ?? '',
      chunkSize: Number(hash['chunkSize'] ?? 0),
      createdAtMs: Number(hash['createdAtMs'] ?? 0),
    };
  }

  async requireRun(run: string): Promise<RunMeta> {
    const meta = await this.getRun(run);
    if (meta === undefined) throw new LabelqError('RUN_NOT_FOUND', `There is no run "${run}" in this queue.`);
    return meta;
  }

  async listRunIds(): Promise<string[]> {
    return this.redis.zrange(`${this.keyPrefix}:runs`, 0, -1);
  }

  /** Which of these chunks have not been registered yet (their jobs still need adding). */
  async unregisteredChunks(run: string, chunks: number[]): Promise<number[]> {
    if (chunks.length === 0) return [];
    const present = await this.redis.hmget(this.key(run, 'chunks'), ...chunks.map(String));
    return chunks.filter((_, i) => present[i] === null);
  }

  /** Records chunks whose jobs were added (call after `addBulk` succeeded). */
  async registerChunks(run: string, chunks: ChunkCount[]): Promise<void> {
    if (chunks.length === 0) return;
    const fields: Record<string, string> = {};
    for (const { chunk, count } of chunks) fields[String(chunk)] = String(count);
    await this.redis.hset(this.key(run, 'chunks'), fields);
  }

  async markActive(run: string, chunk: number, count: number, nowMs: number): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key(run, 'active'), String(chunk), String(count))
      .hsetnx(this.key(run), 'startedAtMs', String(nowMs))
      .exec();
  }

  async markDone(run: string, chunk: number, images: number, errors: number, nowMs: number): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key(run, 'done'), String(chunk), `${images} ${errors}`)
      .hdel(this.key(run, 'active'), String(chunk))
      .hdel(this.key(run, 'failed'), String(chunk))
      .hset(this.key(run), 'lastDoneAtMs', String(nowMs))
      .exec();
  }

  /** The job's attempts are used up: it sits in BullMQ's failed set with this reason. */
  async markFailed(run: string, chunk: number, reason: string): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key(run, 'failed'), String(chunk), reason)
      .hdel(this.key(run, 'active'), String(chunk))
      .exec();
  }

  /**
   * Chunks whose jobs `labelq retry` sends back to the queue: neither failed, done nor in progress any more.
   * Call it before the jobs are moved, so that a worker finishing one at once is not undone.
   */
  async markRequeued(run: string, chunks: readonly number[]): Promise<void> {
    if (chunks.length === 0) return;
    const fields = chunks.map(String);
    await this.redis
      .multi()
      .hdel(this.key(run, 'failed'), ...fields)
      .hdel(this.key(run, 'done'), ...fields)
      .hdel(this.key(run, 'active'), ...fields)
      .exec();
  }

  /** chunk -> item count of every chunk registered for the run. */
  async chunkCounts(run: string): Promise<Map<number, number>> {
    const chunks = await this.redis.hgetall(this.key(run, 'chunks'));
    return new Map(Object.entries(chunks).map(([chunk, count]) => [Number(chunk), Number(count)]));
  }

  /** chunk -> failure reason of the chunks whose jobs are in the failed set (as the workers recorded it). */
  async failedChunks(run: string): Promise<Map<number, string>> {
    const failed = await this.redis.hgetall(this.key(run, 'failed'));
    return new Map(Object.entries(failed).map(([chunk, reason]) => [Number(chunk), reason]));
  }

  /** A job handed back to the queue (shutdown, retry): no longer in progress. */
  async markInactive(run: string, chunk: number): Promise<void> {
    await this.redis.hdel(this.key(run, 'active'), String(chunk));
  }

  async status(run: string): Promise<RunStatus> {
    const meta = await this.requireRun(run);
    const [hash, chunks, active, done, failed] = await Promise.all([
      this.redis.hgetall(this.key(run)),
      this.redis.hgetall(this.key(run, 'chunks')),
      this.redis.hgetall(this.key(run, 'active')),
      this.redis.hgetall(this.key(run, 'done')),
      this.redis.hgetall(this.key(run, 'failed')),
    ]);
    let imagesDone = 0;
    let itemErrors = 0;
    for (const value of Object.values(done)) {
      const [images, errors] = value.split(' ');
      imagesDone += Number(images);
      itemErrors += Number(errors);
    }
    const images = sumValues(Object.values(chunks));
    const failedChunks = Object.keys(failed).filter((chunk) => done[chunk] === undefined);
    const imagesInFailedJobs = sumValues(failedChunks.map((chunk) => chunks[chunk] ?? '0'));
    const activeChunks = Object.keys(active).filter((chunk) => done[chunk] === undefined);
    const imagesInProgress = sumValues(activeChunks.map((chunk) => active[chunk] ?? '0'));
    const startedAtMs = hash['startedAtMs'] === undefined ? undefined : Number(hash['startedAtMs']);
    const lastDoneAtMs = hash['lastDoneAtMs'] === undefined ? undefined : Number(hash['lastDoneAtMs']);
    const elapsedMs = startedAtMs !== undefined && lastDoneAtMs !== undefined ? lastDoneAtMs - startedAtMs : 0;
    const jobs = Object.keys(chunks).length;
    const jobsDone = Object.keys(done).length;
    return {
      meta,
      jobs,
      images,
      imagesInProgress,
      imagesDone,
      itemErrors,
      jobsDone,
      jobsFailed: failedChunks.length,
      imagesInFailedJobs,
      imagesQueued: Math.max(0, images - imagesDone - imagesInProgress - imagesInFailedJobs),
      startedAtMs,
      lastDoneAtMs,
      imagesPerSecond: elapsedMs > 0 ? (imagesDone * 1000) / elapsedMs : undefined,
      finished: jobs > 0 && jobsDone + failedChunks.length >= jobs,
      failedReasons: Object.fromEntries(failedChunks.map((chunk) => [chunk, failed[chunk] ?? ''])),
    };
  }
}
