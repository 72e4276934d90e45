import type { ModelCard } from '@labelq/shared/model-card';
import type { SessionSettings } from './session.ts';

/** Messages between the worker's main thread and its inference thread. */
export interface InferenceThreadData {
  modelPath: string;
  card: ModelCard;
  settings: SessionSettings;
  topK: number;
  maxBatchSize: number;
  /** The null device only (benchmarks): time each batch pretends to take, in ms. */
  nullDeviceBatchMs?: number;
}

export type ToThread =
  | { type: 'run'; id: number; crops: Uint8Array; count: number }
  | { type: 'close' };

export type FromThread =
  | { type: 'ready'; deviceInUse: 'cpu' | 'cuda' | 'null'; fallbackReason?: string; sessionOpenMs: number }
  | { type: 'result'; id: number; indices: Int32Array; probabilities: Float32Array; crops: Uint8Array; inferenceMs: number }
  | { type: 'failed'; id: number; message: string; crops: Uint8Array }
  | { type: 'fatal'; code: string; message: string };
