import { Worker } from 'node:worker_threads';
import { LabelqError, type ErrorCode } from '@labelq/shared/errors';
import type { FromThread, InferenceThreadData, ToThread } from './protocol.ts';

export interface BatchResult {
  /** [count, k] class indices, most probable first. */
  indices: Int32Array;
  /** [count, k] probabilities matching `indices`. */
  probabilities: Float32Array;
  /** The crops buffer handed back, for reuse. */
  crops: Uint8Array;
  inferenceMs: number;
}

interface Pending {
  resolve: (result: BatchResult) => void;
  reject: (error: Error) => void;
}

/**
 * The main thread's handle on the inference thread. `runBatch` transfers a buffer of crops (no copy) and
 * resolves with the top-k of each image; the buffer comes back with the answer.
 */
export class InferenceEngine {
  readonly deviceInUse: 'cpu' | 'cuda' | 'null';
  readonly fallbackReason: string | undefined;
  readonly sessionOpenMs: number;
  private readonly thread: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | undefined;
  private closing = false;
  private readonly deathListeners: ((error: Error) => void)[] = [];

  private constructor(thread: Worker, ready: Extract<FromThread, { type: 'ready' }>) {
    this.thread = thread;
    this.deviceInUse = ready.deviceInUse;
    this.fallbackReason = ready.fallbackReason;
    this.sessionOpenMs = ready.sessionOpenMs;
    thread.on('message', (message: FromThread) => this.onMessage(message));
    thread.on('error', (error) => this.fail(error));
    thread.on('exit', (code) => this.fail(new Error(`the inference thread exited (code ${code})`)));
  }

  /** Starts the thread and waits until the session is open; fails with the thread's own reason. */
  static async start(data: InferenceThreadData): Promise<InferenceEngine> {
    const thread = new Worker(new URL('./inference-thread.ts', import.meta.url), { workerData: data });
    let onMessage: (message: FromThread) => void = () => undefined;
    let onError: (error: Error) => void = () => undefined;
    let onExit: (code: number) => void = () => undefined;
    try {
      const ready = await new Promise<Extract<FromThread, { type: 'ready' }>>((resolve, reject) => {
        onMessage = (message) => {
          if (message.type === 'ready') resolve(message);
          else if (message.type === 'fatal') reject(new LabelqError(message.code as ErrorCode, message.message));
        };
        onError = reject;
        onExit = (code) => reject(new Error(`the inference thread exited during start (code ${code})`));
        thread.on('message', onMessage).once('error', onError).once('exit', onExit);
      });
      return new InferenceEngine(thread, ready);
    } catch (error) {
      await thread.terminate();
      throw error;
    } finally {
      // Only our own listeners: removeAllListeners() would also drop Node's internal ones and the
      // thread's messages would never arrive again.
      thread.off('message', onMessage).off('error', onError).off('exit', onExit);
    }
  }

  runBatch(crops: Uint8Array, count: number): Promise<BatchResult> {
    if (this.dead !== undefined) {
      return Promise.reject(new LabelqError('INFERENCE_FAILED', `Inference is not available: ${this.dead.message}`));
    }
    const id = this.nextId++;
    const message: ToThread = { type: 'run', id, crops, count };
    return new Promise<BatchResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread.postMessage(message, [crops.buffer as ArrayBuffer]);
    });
  }

  private onMessage(message: FromThread): void {
    if (message.type !== 'result' && message.type !== 'failed') return;
    const waiting = this.pending.get(message.id);
    if (waiting === undefined) return;
    this.pending.delete(message.id);
    if (message.type === 'result') {
      waiting.resolve({
        indices: message.indices,
        probabilities: message.probabilities,
        crops: message.crops,
        inferenceMs: message.inferenceMs,
      });
    } else {
      waiting.reject(new LabelqError('INFERENCE_FAILED', `Inference failed: ${message.message}`));
    }
  }

  /** Called once if the thread dies while the engine is in use (not on close). */
  onDeath(listener: (error: Error) => void): void {
    this.deathListeners.push(listener);
  }

  private fail(error: Error): void {
    const firstDeath = this.dead === undefined && !this.closing;
    this.dead ??= error;
    if (firstDeath) for (const listener of this.deathListeners) listener(error);
    for (const waiting of this.pending.values()) {
      waiting.reject(new LabelqError('INFERENCE_FAILED', `Inference failed: ${error.message}`, { cause: error }));
    }
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.dead ??= new Error('the inference engine is closed');
    const exited = new Promise<void>((resolve) => this.thread.once('exit', () => resolve()));
    this.thread.postMessage({ type: 'close' } satisfies ToThread);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
    await Promise.race([exited, timeout]);
    await this.thread.terminate();
  }
}
