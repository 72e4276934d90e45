import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { readModelCard } from '@labelq/shared/model-card';
import { openSession, type DeviceRequest } from '@labelq/worker/inference/session';
import { createPreprocessor } from '@labelq/worker/preprocess/preprocessor';
import { applySharpSettings } from '@labelq/worker/preprocess/sharp-settings';
import { measurePipeline } from '../gpu/preprocess-bench.ts';
import { progress } from '../lib/progress.ts';
import { loadModel } from './infer-only.ts';

export interface OverlapRow {
  allowSpinning: boolean;
  intraOpThreads: number;
  batch: number;
  inFlight: number;
  images: number;
  imagesPerSecond: number;
  waitPreprocessSeconds: number;
  inferenceSeconds: number;
}

/**
 * Decoding and inference overlapped in one process (no queue): batch k+1 is preprocessed while batch k runs,
 * with ONNX Runtime's intra-op threads spinning (its default) or sleeping while they wait. On a CPU that
 * decoding and inference share, spinning threads take cores from the decoder.
 */
export async function measureOverlap(
  cardPath: string,
  images: readonly Buffer[],
  options: { device: DeviceRequest; batch: number; batches: number; inFlight: number },
): Promise<OverlapRow[]> {
  const card = await readModelCard(cardPath);
  const model = await loadModel(cardPath);
  applySharpSettings();
  const preprocessor = createPreprocessor(card, { maxInputPixels: 100_000_000 });
  const rows: OverlapRow[] = [];
  for (const allowSpinning of [true, false]) {
    const intraOpThreads = availableParallelism();
    const { session } = await openSession(model.modelPath, { device: options.device, cudaDeviceId: 0, intraOpThreads, interOpThreads: 1, allowSpinning });
    try {
      const run = async (input: Float32Array): Promise<void> => {
        const outputs = await session.run({ [model.inputName]: new ort.Tensor('float32', input, model.shape(options.batch)) });
        for (const output of Object.values(outputs)) output.dispose();
      };
      await measurePipeline(preprocessor, images, run, { ...options, batches: 1 }); // warm-up
      const measured = await measurePipeline(preprocessor, images, run, options);
      rows.push({ allowSpinning, intraOpThreads, ...measured });
      progress(`overlap, spinning ${allowSpinning ? 'on' : 'off'}: ${measured.imagesPerSecond} images/s (waited ${measured.waitPreprocessSeconds} s for decoding, ${measured.inferenceSeconds} s in session.run)`);
    } finally {
      await session.release();
    }
  }
  return rows;
}
