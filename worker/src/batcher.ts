import { LabelqError } from '@labelq/shared/errors';
import type { BatchResult } from './inference/inference-engine.ts';

export interface ImageAnswer {
  indices: Int32Array;
  probabilities: Float32Array;
}

export interface BatcherOptions {
  batchSize: number;
  maxWaitMs: number;
  cropBytes: number;
  topK: number;
  /** Batches handed to inference and not answered yet; 2 keeps one ready while one runs. */
  maxBatchesInFlight: number;
  runBatch: (crops: Uint8Array, count: number) => Promise<BatchResult>;
  onBatch?: (stats: { count: number; waitedMs: number; inferenceMs: number }) => void;
}

interface Waiting {
  crop: Uint8Array;
  addedAtMs: number;
  resolve: (answer: ImageAnswer) => void;
  reject: (error: Error) => void;
}

/**
 * Dynamic batching across jobs (Triton-style): images from every job in flight wait here; a batch goes to
 * inference when `batchSize` images wait, or when the oldest has waited `maxWaitMs` and inference has room.
 * Crop buffers are reused: at most `maxBatchesInFlight + 1` exist, whatever the backlog.
 */
export class DynamicBatcher {
  private readonly options: BatcherOptions;
  private readonly waiting: Waiting[] = [];
  private readonly freeBuffers: Uint8Array[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: BatcherOptions) {
    this.options = options;
  }

  /** Queues one image's crop; resolves with its top-k once its batch has run. */
  add(crop: Uint8Array): Promise<ImageAnswer> {
    if (this.closed) return Promise.reject(new LabelqError('WORKER_SHUTTING_DOWN', 'The worker is shutting down.'));
    if (crop.length !== this.options.cropBytes) {
      return Promise.reject(new Error(`a crop of ${crop.length} bytes was given, expected ${this.options.cropBytes}`));
    }
    return new Promise<ImageAnswer>((resolve, reject) => {
      this.waiting.push({ crop, addedAtMs: performance.now(), resolve, reject });
      this.pump();
    });
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.inFlight < this.options.maxBatchesInFlight) {
      const full = this.waiting.length >= this.options.batchSize;
      const waitedMs = performance.now() - this.waiting[0]!.addedAtMs;
      // An idle engine takes a partial batch after maxWaitMs; a busy one lets the batch keep filling.
      if (!full && waitedMs < this.options.maxWaitMs) break;
      if (!full && this.inFlight > 0) break;
      this.dispatch(this.waiting.splice(0, this.options.batchSize));
    }
    this.armTimer();
  }

  private armTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.length === 0 || this.inFlight > 0) return;
    const dueInMs = Math.max(0, this.options.maxWaitMs - (performance.now() - this.waiting[0]!.addedAtMs));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, dueInMs);
  }

  private dispatch(batch: Waiting[]): void {
    const { cropBytes, batchSize, topK } = this.options;
    const buffer = this.freeBuffers.pop() ?? new Uint8Array(batchSize * cropBytes);
    batch.forEach((item, i) => buffer.set(item.crop, i * cropBytes));
    const waitedMs = performance.now() - batch[0]!.addedAtMs;
    this.inFlight++;
    this.options.runBatch(buffer, batch.length).then(
      (result) => {
        this.inFlight--;
        if (result.crops.length === batchSize * cropBytes) this.freeBuffers.push(result.crops);
        const k = result.indices.length / batch.length;
        if (!Number.isInteger(k) || k < 1 || k > topK) {
          const error = new LabelqError('INFERENCE_FAILED', `Inference answered ${result.indices.length} classes for ${batch.length} images.`);
          for (const item of batch) item.reject(error);
          this.pump();
          return;
        }
        batch.forEach((item, i) =>
          item.resolve({
            indices: result.indices.slice(i * k, (i + 1) * k),
            probabilities: result.probabilities.slice(i * k, (i + 1) * k),
          }),
        );
        this.options.onBatch?.({ count: batch.length, waitedMs, inferenceMs: result.inferenceMs });
        this.pump();
      },
      (error: unknown) => {
        this.inFlight--;
        for (const item of batch) item.reject(error instanceof Error ? error : new Error(String(error)));
        this.pump();
      },
    );
  }

  /** Refuses new images; those waiting are rejected so their jobs can be handed back. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const item of this.waiting.splice(0)) {
      item.reject(new LabelqError('WORKER_SHUTTING_DOWN', 'The worker is shutting down.'));
    }
  }
}
