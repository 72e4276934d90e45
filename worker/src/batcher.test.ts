import { describe, expect, it } from 'vitest';
import { DynamicBatcher } from './batcher.ts';
import type { BatchResult } from './inference/inference-engine.ts';

const cropBytes = 4;

/** An inference stand-in that answers each image with its first byte as class index, after `delayMs`. */
function recordingRunner(delayMs: number) {
  const batches: number[] = [];
  const runBatch = async (crops: Uint8Array, count: number): Promise<BatchResult> => {
    batches.push(count);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const indices = new Int32Array(count).map((_, i) => crops[i * cropBytes]!);
    return { indices, probabilities: new Float32Array(count).fill(1), crops, inferenceMs: delayMs };
  };
  return { batches, runBatch };
}

const crop = (value: number): Uint8Array => new Uint8Array(cropBytes).fill(value);

describe('DynamicBatcher', () => {
  it('sends a full batch at once and answers each image with its own row', async () => {
    const runner = recordingRunner(5);
    const batcher = new DynamicBatcher({ batchSize: 4, maxWaitMs: 10_000, cropBytes, topK: 1, maxBatchesInFlight: 2, runBatch: runner.runBatch });
    const answers = await Promise.all([1, 2, 3, 4].map((v) => batcher.add(crop(v))));
    expect(answers.map((a) => a.indices[0])).toEqual([1, 2, 3, 4]);
    expect(runner.batches).toEqual([4]);
  });

  it('sends a partial batch once the oldest image has waited maxWaitMs', async () => {
    const runner = recordingRunner(1);
    const batcher = new DynamicBatcher({ batchSize: 8, maxWaitMs: 30, cropBytes, topK: 1, maxBatchesInFlight: 2, runBatch: runner.runBatch });
    const started = performance.now();
    const answers = await Promise.all([7, 9, 11].map((v) => batcher.add(crop(v))));
    const elapsedMs = performance.now() - started;
    expect(answers.map((a) => a.indices[0])).toEqual([7, 9, 11]);
    expect(runner.batches).toEqual([3]);
    expect(elapsedMs).toBeGreaterThanOrEqual(25);
  });

  it('gathers images that arrive while inference is busy into full batches', async () => {
    const runner = recordingRunner(40);
    const batcher = new DynamicBatcher({ batchSize: 4, maxWaitMs: 0, cropBytes, topK: 1, maxBatchesInFlight: 1, runBatch: runner.runBatch });
    const first = batcher.add(crop(1));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const rest = [2, 3, 4, 5, 6, 7, 8, 9].map((v) => batcher.add(crop(v)));
    const answers = await Promise.all([first, ...rest]);
    expect(answers.map((a) => a.indices[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(runner.batches).toEqual([1, 4, 4]);
  });

  it('rejects the images of a failed batch and keeps serving later ones', async () => {
    let calls = 0;
    const batcher = new DynamicBatcher({
      batchSize: 2,
      maxWaitMs: 0,
      cropBytes,
      topK: 1,
      maxBatchesInFlight: 1,
      runBatch: async (crops, count) => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return { indices: new Int32Array(count), probabilities: new Float32Array(count), crops, inferenceMs: 0 };
      },
    });
    await expect(batcher.add(crop(1))).rejects.toThrow('boom');
    await expect(batcher.add(crop(2))).resolves.toMatchObject({ indices: new Int32Array([0]) });
  });

  it('refuses crops of the wrong size and rejects waiting images on close', async () => {
    const runner = recordingRunner(1);
    const batcher = new DynamicBatcher({ batchSize: 4, maxWaitMs: 10_000, cropBytes, topK: 1, maxBatchesInFlight: 1, runBatch: runner.runBatch });
    await expect(batcher.add(new Uint8Array(3))).rejects.toThrow('expected 4');
    const waiting = batcher.add(crop(1));
    batcher.close();
    await expect(waiting).rejects.toMatchObject({ code: 'WORKER_SHUTTING_DOWN' });
  });
});
