import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { LabelqError } from '@labelq/shared/errors';

export type DeviceRequest = 'auto' | 'cpu' | 'cuda' | 'null';
export type DeviceInUse = 'cpu' | 'cuda' | 'null';

export interface SessionSettings {
  device: DeviceRequest;
  cudaDeviceId: number;
  intraOpThreads: number;
  interOpThreads: number;
  /** ONNX Runtime graph optimisation; default 'all' (the worker's). The bench compares the others. */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * ONNX Runtime's CPU memory arena: default off. With it, a worker at batch 64 kept 1262 MiB resident after its
   * second batch (the arena keeps every activation buffer it ever grew); without it 394 MiB between batches and
   * 835 MiB at the peak, at the same batch time within this machine's noise (`node bench/rss-probe.ts`,
   * docs/performance.md). Memory-pattern planning: default on (ONNX Runtime's default).
   */
  enableCpuMemArena?: boolean;
  enableMemPattern?: boolean;
  /** Whether ONNX Runtime's intra-op threads spin while waiting for work; default true (ONNX Runtime's). */
  allowSpinning?: boolean;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  deviceInUse: Exclude<DeviceInUse, 'null'>;
  /** Set when `auto` asked for CUDA and had to fall back to CPU: why. */
  fallbackReason?: string;
}

function options(settings: SessionSettings, providers: ort.InferenceSession.ExecutionProviderConfig[]): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    graphOptimizationLevel: settings.graphOptimizationLevel ?? 'all',
    intraOpNumThreads: settings.intraOpThreads,
    interOpNumThreads: settings.interOpThreads,
    executionMode: 'sequential',
    enableCpuMemArena: settings.enableCpuMemArena ?? false,
    enableMemPattern: settings.enableMemPattern ?? true,
    ...(settings.allowSpinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
  };
}

/** Where onnxruntime-node keeps its native libraries; the CUDA provider must sit there to load. */
export function cudaProviderLibraryPath(): string {
  const packageJson = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  return join(dirname(packageJson), 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
}

/**
 * Opens one ONNX Runtime session. `cuda` fails with DEVICE_UNAVAILABLE when the CUDA provider cannot load;
 * `auto` tries CUDA and falls back to CPU, returning the reason so the caller can say so loudly.
 * onnxruntime-node does not fall back by itself (asking for ['cuda','cpu'] throws where CUDA is missing).
 */
export async function openSession(modelPath: string, settings: SessionSettings): Promise<OpenedSession> {
  if (settings.device === 'null') throw new Error('the null device has no ONNX Runtime session');
  if (settings.device === 'cpu') {
    return { session: await ort.InferenceSession.create(modelPath, options(settings, ['cpu'])), deviceInUse: 'cpu' };
  }
  const providerPath = cudaProviderLibraryPath();
  if (settings.device === 'auto' && !existsSync(providerPath)) {
    // Not installed at all: say so plainly instead of letting ONNX Runtime print a loader error.
    const session = await ort.InferenceSession.create(modelPath, options(settings, ['cpu']));
    return {
      session,
      deviceInUse: 'cpu',
      fallbackReason: `the CUDA execution provider is not installed (${providerPath} is missing; install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 on a GPU host)`,
    };
  }
  const cuda: ort.InferenceSession.ExecutionProviderConfig = { name: 'cuda', deviceId: settings.cudaDeviceId };
  try {
    const session = await ort.InferenceSession.create(modelPath, options(settings, [cuda]));
    return { session, deviceInUse: 'cuda' };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (settings.device === 'cuda') {
      throw new LabelqError(
        'DEVICE_UNAVAILABLE',
        `The CUDA execution provider could not be loaded (${reason}). A GPU worker needs an NVIDIA driver, CUDA 12 and cuDNN 9, and onnxruntime-node installed with ONNXRUNTIME_NODE_INSTALL=cuda12. Use --device auto to fall back to CPU or --device cpu.`,
        { cause: error },
      );
    }
    const session = await ort.InferenceSession.create(modelPath, options(settings, ['cpu']));
    return { session, deviceInUse: 'cpu', fallbackReason: reason };
  }
}
