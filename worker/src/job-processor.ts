import pLimit from 'p-limit';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { isLabelqError, LabelqError } from '@labelq/shared/errors';
import { jobDataSchema, type JobData } from '@labelq/shared/job';
import type { ModelCard, ModelIdentity } from '@labelq/shared/model-card';
import type { ErrorRecord, LabelRecord } from '@labelq/shared/record';
import type { RunRegistry } from '@labelq/shared/run-registry';
import { recordKey, type RecordStore } from '@labelq/shared/store/record-store';
import type { Logger } from '@labelq/shared/logger';
import type { ImageAnswer } from './batcher.ts';
import { errorRecord, labelRecord, toJsonLines } from './records.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface JobProcessorDeps {
  card: ModelCard;
  model: ModelIdentity;
  fetchItem: (uri: string, signal?: AbortSignal) => Promise<Buffer>;
  decodeCrop: (bytes: Buffer) => Promise<Uint8Array>;
  infer: (crop: Uint8Array) => Promise<ImageAnswer>;
  storeFor: (out: string) => RecordStore;
  registry: RunRegistry;
  metrics: WorkerMetrics;
  log: Logger;
  fetchConcurrency: number;
  decodeConcurrency: number;
}

/**
 * Processes one job: every item is fetched, decoded and labelled, or becomes an error record; the job's
 * records are written as one object at a deterministic key; only then does the job complete. An item
 * failure never fails the job; a store, source or inference failure does (and BullMQ retries it).
 */
export function createJobProcessor(deps: JobProcessorDeps) {
  // Shared by all jobs of this process: bounded fetches in flight, bounded decodes in flight. A fetched
  // image holds its fetch slot until it is decoded, so raw bytes in memory stay bounded too.
  const fetchSlots = pLimit(deps.fetchConcurrency);
  const decodeSlots = pLimit(deps.decodeConcurrency);

  async function processItem(uri: string, run: string, signal: AbortSignal): Promise<LabelRecord | ErrorRecord> {
    try {
      const crop = await fetchSlots(async () => {
        signal.throwIfAborted();
        const fetchStarted = performance.now();
        const bytes = await deps.fetchItem(uri, signal);
        deps.metrics.stageSeconds('fetch', (performance.now() - fetchStarted) / 1000);
        return decodeSlots(async () => {
          const decodeStarted = performance.now();
          const decoded = await deps.decodeCrop(bytes);
          deps.metrics.stageSeconds('decode', (performance.now() - decodeStarted) / 1000);
          return decoded;
        });
      });
      const answer = await deps.infer(crop);
      deps.metrics.imageDone();
      return labelRecord(uri, run, deps.model, deps.card, answer);
    } catch (error) {
      if (isLabelqError(error) && error.kind === 'item') {
        deps.metrics.imageFailed(error.code);
        return errorRecord(uri, run, deps.model, error.code, error.message);
      }
      throw error;
    }
  }

  /**
   * `token` and `signal` come from BullMQ (the processor declares three parameters, so BullMQ passes an abort
   * signal). The signal fires when the worker cancels its jobs at the shutdown deadline: the job is then handed
   * back to the wait list at once (`moveToWait`, which neither uses an attempt nor waits for the lock to expire)
   * and the processor throws BullMQ's WaitingError, which BullMQ treats as "moved elsewhere", not as a failure.
   */
  return async function processJob(job: Job, token?: string, signal?: AbortSignal): Promise<{ images: number; errors: number }> {
    const parsed = jobDataSchema.safeParse(job.data);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new UnrecoverableError(`JOB_PAYLOAD_INVALID: job ${job.id} has a payload this worker cannot read: ${problems}`);
    }
    const data: JobData = parsed.data;
    const log = deps.log.child({ job: job.id, run: data.run, chunk: data.chunk, attempt: job.attemptsMade + 1 });
    const store = deps.storeFor(data.out);
    await deps.registry.markActive(data.run, data.chunk, data.uris.length, Date.now());
    deps.metrics.jobStarted(data.uris.length);
    // If one item fails the job, the others stop early instead of finishing work that will be redone.
    const abort = new AbortController();
    const handBack = handBackSignal(signal, abort);
    try {
      const recordsWritten = (async () => {
        const records = await Promise.all(
          data.uris.map((uri) =>
            processItem(uri, data.run, abort.signal).catch((error: unknown) => {
              abort.abort(error);
              throw error;
            }),
          ),
        );
        const writeStarted = performance.now();
        await store.put(recordKey(data.run, data.chunk), toJsonLines(records));
        deps.metrics.stageSeconds('write', (performance.now() - writeStarted) / 1000);
        return records;
      })();
      // Whatever is still running when the job is handed back finishes in the background and is ignored; a
      // write that lands late is the same object at the same key as the one the next attempt writes.
      recordsWritten.catch(() => undefined);
      const records = await Promise.race([recordsWritten, handBack.requested]);
      const errors = records.filter((record) => 'error' in record).length;
      await deps.registry.markDone(data.run, data.chunk, records.length, errors, Date.now());
      log.debug({ images: records.length, errors }, 'job done');
      return { images: records.length, errors };
    } catch (error) {
      if (handBack.wanted() || (isLabelqError(error) && error.code === 'WORKER_SHUTTING_DOWN')) {
        abort.abort(error);
        await deps.registry.markInactive(data.run, data.chunk).catch(() => undefined);
        if (token !== undefined) {
          try {
            await job.moveToWait(token);
            log.info('job handed back to the queue: the worker is shutting down');
          } catch (moveError) {
            // Lock already lost, or Redis away: the stalled-job check brings the job back after its lock expires.
            log.warn({ error: String(moveError) }, 'could not hand the job back; it returns when its lock expires');
          }
          throw new WaitingError();
        }
      }
      const reason = error instanceof Error ? error.message : String(error);
      log.warn({ code: isLabelqError(error) ? error.code : undefined, reason }, 'job failed; BullMQ will retry it or move it to the failed set');
      await deps.registry.markInactive(data.run, data.chunk).catch(() => undefined);
      if (isLabelqError(error) && error.kind === 'job-permanent') throw new UnrecoverableError(`${error.code}: ${error.message}`);
      // BullMQ keeps the message as the job's failedReason: lead it with the stable code.
      if (isLabelqError(error)) throw new Error(`${error.code}: ${error.message}`, { cause: error });
      throw error;
    } finally {
      handBack.dispose();
      deps.metrics.jobFinished(data.uris.length);
    }
  };
}

/**
 * BullMQ's cancellation signal as a promise that rejects when the worker asks for the job back (the job's own
 * items are aborted at the same moment). `wanted()` says whether it was asked.
 */
function handBackSignal(signal: AbortSignal | undefined, items: AbortController) {
  let onAbort: (() => void) | undefined;
  const requested = new Promise<never>((_, reject) => {
    if (signal === undefined) return;
    onAbort = () => {
      const reason = new LabelqError('WORKER_SHUTTING_DOWN', 'The worker is shutting down and hands this job back to the queue.', { cause: signal.reason });
      items.abort(reason);
      reject(reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  requested.catch(() => undefined);
  return {
    requested,
    wanted: () => signal?.aborted === true,
    dispose: () => {
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    },
  };
}
