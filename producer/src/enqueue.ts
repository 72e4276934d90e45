import { LabelqError } from '@labelq/shared/errors';
import { jobIdFor, jobPayloadVersion, labelJobName, type JobData } from '@labelq/shared/job';
import type { LabelQueue } from '@labelq/shared/queue';
import type { RunMeta, RunRegistry } from '@labelq/shared/run-registry';
import type { RecordStore } from '@labelq/shared/store/record-store';
import { rechunked } from './chunker.ts';
import { checkRunId } from './run-id.ts';
import { writeEnqueuedChunks } from './operator/enqueued-manifest.ts';
import { checkedItemBatches, emptySkipped, type SkippedEntries } from './sources/checked-items.ts';
import { distinctItemBatches, emptyDropped, type DroppedDuplicates } from './sources/distinct-items.ts';
import type { Source } from './sources/source-types.ts';

export interface EnqueueProgress {
  run: string;
  /** Distinct items read from the source so far (each becomes one record). */
  images: number;
  /** Jobs (chunks) formed so far. */
  jobs: number;
  /** Jobs added to the queue by this call (chunks registered earlier are not added again). */
  jobsAdded: number;
  elapsedMs: number;
}

export interface EnqueueOptions {
  queue: LabelQueue;
  registry: RunRegistry;
  source: Source;
  run: string;
  /** Normalised store URL (`normaliseStoreUrl`): where the run's records go. */
  out: string;
  chunkSize: number;
  /** Leave out invalid manifest lines instead of failing (see checkedItems). */
  skipInvalid?: boolean;
  /**
   * The run's store: each round's chunks are written there (`<run>/enqueued/`, see operator/enqueued-manifest.ts)
   * before their jobs are added, for `labelq verify` and `labelq retry`. Without it nothing is written; verify
   * then falls back to the jobs' data in Redis.
   */
  store?: RecordStore;
  /** Chunks sent to Redis in one round trip (one addBulk); default: about 25,000 URIs' worth, 10 to 1000 chunks. */
  chunksPerRound?: number;
  /** Called after every round. */
  onProgress?: (progress: EnqueueProgress) => void;
  nowMs?: () => number;
}

export interface EnqueueResult {
  run: string;
  images: number;
  jobs: number;
  jobsAdded: number;
  skippedLines: SkippedEntries;
  /** Repeated URIs left out (the first occurrence of each URI is enqueued). */
  duplicates: DroppedDuplicates;
}

/** URIs sent to Redis per round trip; small chunks mean more jobs per round. */
export const urisPerRound = 25_000;

export function defaultChunksPerRound(chunkSize: number): number {
  return Math.min(1000, Math.max(10, Math.round(urisPerRound / chunkSize)));
}

interface PendingChunk {
  chunk: number;
  uris: string[];
}

/**
 * Enqueues every item of a source into one run.
 *
 * Chunk i of the source becomes job `jobIdFor(run, i)`; a round of chunks is checked against the run registry,
 * the unregistered ones are added with one `addBulk`, then registered. So enqueuing the same source into the
 * same run again adds nothing, and a producer that died half-way can be run again to add the rest (a job added
 * but not yet registered is added again under the same id, which BullMQ ignores). While one round is in
 * Redis, the next one is read from the source.
 *
 * A run keeps the chunk size it was created with: enqueuing into an existing run with another size would
 * shift the chunks, so it is refused. Appending lines to a manifest and enqueuing it again into the same run
 * adds the new whole chunks, but a last chunk that was already registered short keeps its old items: use a
 * new run id for new items.
 *
 * A URI that occurs more than once in the source is enqueued once, at its first occurrence; the others are
 * counted in `duplicates`. So a run has exactly one record per distinct URI (what `labelq verify` checks).
 *
 * A source without any item enqueues nothing and registers no run: the result says `images: 0`.
 */
export async function enqueueSource(options: EnqueueOptions): Promise<EnqueueResult> {
  const { queue, registry, source, out, chunkSize } = options;
  const run = checkRunId(options.run);
  const chunksPerRound = options.chunksPerRound ?? defaultChunksPerRound(chunkSize);
  const nowMs = options.nowMs ?? Date.now;
  const startedAtMs = nowMs();
  const skippedLines = emptySkipped();
  const duplicates = emptyDropped();
  let images = 0;
  let jobs = 0;
  let jobsAdded = 0;
  let registered = false;
  // The registry may share the queue's connection, which refuses commands until it is connected.
  await queue.waitUntilReady();

  const register = async (): Promise<void> => {
    const meta: RunMeta = { run, source: source.description, out, chunkSize, createdAtMs: nowMs() };
    const existing = await registry.registerRun(meta);
    if (existing.chunkSize !== chunkSize) {
      throw new LabelqError(
        'SOURCE_INVALID',
        `Run "${run}" was enqueued in chunks of ${existing.chunkSize} images, not ${chunkSize}: enqueue into it with --chunk ${existing.chunkSize}, or use another --run id.`,
      );
    }
    registered = true;
  };

  const sendRound = async (round: PendingChunk[]): Promise<void> => {
    // An existing run refuses another output or chunk size before anything is written.
    if (!registered && (await registry.getRun(run)) !== undefined) await register();
    const fresh = new Set(await registry.unregisteredChunks(run, round.map((pending) => pending.chunk)));
    const toAdd = round.filter((pending) => fresh.has(pending.chunk));
    if (toAdd.length > 0) {
      // Written first: a store that refuses writes stops a new run before it is registered or has a job.
      if (options.store !== undefined) await writeEnqueuedChunks(options.store, run, toAdd);
      if (!registered) await register();
      await queue.addBulk(
        toAdd.map(({ chunk, uris }) => {
          const data: JobData = { v: jobPayloadVersion, run, chunk, out, uris };
          return { name: labelJobName, data, opts: { jobId: jobIdFor(run, chunk) } };
        }),
      );
      await registry.registerChunks(
        run,
        toAdd.map(({ chunk, uris }) => ({ chunk, count: uris.length })),
      );
    }
    jobsAdded += toAdd.length;
    options.onProgress?.({ run, images, jobs, jobsAdded, elapsedMs: nowMs() - startedAtMs });
  };

  // One round in flight while the next is read. The catch marks it handled until it is awaited.
  let inFlight: Promise<void> = Promise.resolve();
  const flush = async (round: PendingChunk[]): Promise<void> => {
    await inFlight;
    inFlight = sendRound(round);
    inFlight.catch(() => undefined);
  };

  let failed = false;
  let failure: unknown;
  try {
    let round: PendingChunk[] = [];
    const items = distinctItemBatches(checkedItemBatches(source, options.skipInvalid ?? false, skippedLines), duplicates);
    const uriBatches = mapBatches(items, (item) => item.uri);
    for await (const chunkUris of rechunked(uriBatches, chunkSize)) {
      round.push({ chunk: jobs, uris: chunkUris });
      jobs += 1;
      images += chunkUris.length;
      if (round.length >= chunksPerRound) {
        await flush(round);
        round = [];
      }
    }
    if (round.length > 0) await flush(round);
  } catch (error) {
    failed = true;
    failure = error;
  }
  // Never leave a round running unobserved, even when reading the source failed; the first error wins.
  try {
    await inFlight;
  } catch (error) {
    if (!failed) {
      failed = true;
      failure = error;
    }
  }
  if (failed) throw failure;

  return { run, images, jobs, jobsAdded, skippedLines, duplicates };
}

async function* mapBatches<T, U>(batches: AsyncIterable<T[]>, map: (item: T) => U): AsyncIterable<U[]> {
  for await (const batch of batches) yield batch.map(map);
}
