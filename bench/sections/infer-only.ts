import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { readModelCard } from '@labelq/shared/model-card';
import { openSession, type DeviceRequest, type SessionSettings } from '@labelq/worker/inference/session';
import { imagesPerSecond, timeRuns, type TimingPlan } from '../gpu/timing.ts';
import { progress } from '../lib/progress.ts';

/**
 * ONNX Runtime alone on ready float tensors: the ceiling of inference. Same session settings as the worker
 * (worker/src/inference/session.ts with intra-op threads = cores, inter-op 1, graph optimisation 'all').
 */
export interface InferRow {
  batch: number;
  intraOpThreads: number;
  graphOptimizationLevel: string;
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  iterations: number;
  imagesPerSecond: number;
}

export async function loadModel(cardPath: string): Promise<{ modelPath: string; inputName: string; shape: (n: number) => number[] }> {
  const card = await readModelCard(cardPath);
  const modelPath = resolve(dirname(cardPath), card.file);
  const shape = (n: number): number[] =>
    card.input.layout === 'NCHW' ? [n, 3, card.input.height, card.input.width] : [n, card.input.height, card.input.width, 3];
  return { modelPath, inputName: card.input.name, shape };
}

/** Values like normalised pixels (deterministic, no randomness needed for timing). */
function inputOf(floats: number): Float32Array {
  const data = new Float32Array(floats);
  for (let i = 0; i < floats; i++) data[i] = Math.sin(i * 0.37) * 1.5;
  return data;
}

export async function measureInferOnly(
  cardPath: string,
  options: { device: DeviceRequest; batches: number[]; intraOpThreads?: number; graphOptimizationLevel?: SessionSettings['graphOptimizationLevel']; plan: TimingPlan },
): Promise<InferRow[]> {
  const model = await loadModel(cardPath);
  const intraOpThreads = options.intraOpThreads ?? availableParallelism();
  const level = options.graphOptimizationLevel ?? 'all';
  const { session } = await openSession(model.modelPath, {
    device: options.device,
    cudaDeviceId: 0,
    intraOpThreads,
    interOpThreads: 1,
    graphOptimizationLevel: level,
  });
  const rows: InferRow[] = [];
  try {
    const largest = Math.max(...options.batches);
    const perImage = model.shape(1).reduce((a, b) => a * b, 1);
    const data = inputOf(largest * perImage);
    for (const batch of options.batches) {
      const tensor = new ort.Tensor('float32', data.subarray(0, batch * perImage), model.shape(batch));
      const timing = await timeRuns(async () => {
        const outputs = await session.run({ [model.inputName]: tensor });
        for (const output of Object.values(outputs)) output.dispose();
      }, options.plan);
      const row: InferRow = {
        batch,
        intraOpThreads,
        graphOptimizationLevel: level,
        medianMs: timing.medianMs,
        p10Ms: timing.p10Ms,
        p90Ms: timing.p90Ms,
        iterations: timing.iterations,
        imagesPerSecond: imagesPerSecond(batch, timing.medianMs),
      };
      rows.push(row);
      progress(`infer-only batch ${batch}, ${intraOpThreads} thread(s), graph ${level}: ${row.imagesPerSecond} images/s (median ${row.medianMs} ms)`);
    }
  } finally {
    await session.release();
  }
  return rows;
}
