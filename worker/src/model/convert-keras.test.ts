import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readModelCard } from '@labelq/shared/model-card';
import { fetchAndConvert } from './fetch-and-convert.ts';
import { goldenDir, hasGoldenData, testModelsDir } from './test-paths.ts';

async function readFloats(file: string): Promise<Float32Array> {
  const bytes = await readFile(file);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function argmax(values: Float32Array, row: number, width: number): number {
  let best = 0;
  for (let k = 1; k < width; k++) if ((values[row * width + k] as number) > (values[row * width + best] as number)) best = k;
  return best;
}

const expectedTop1 = [0, 402, 606, 686, 546, 512, 282, 888];

describe.skipIf(!hasGoldenData)('Keras ResNet50 converted to ONNX (golden outputs of the original TF.js model)', () => {
  it('reproduces every softmax value within 1e-4 and the same top-1 for all 8 images', async () => {
    const lines: string[] = [];
    const result = await fetchAndConvert({ modelsDir: testModelsDir, log: (line) => lines.push(line) });
    expect(lines.at(-1)).toMatch(/^done: /);
    const card = await readModelCard(result.cardPath);
    expect(card.sha256).toBe(result.sha256);
    expect(card.name).toBe('resnet50-keras');
    expect(card.labels).toHaveLength(1000);
    expect(card.preprocess).toEqual({ colorOrder: 'BGR', scale: 1, mean: [103.939, 116.779, 123.68], std: [1, 1, 1], resizeShorterSide: 256, cropSize: 224 });
    expect(card.source?.['sha256']).toBe('863f7e63d95b1583cdd5af6bbd58e51c9664ec003ecdebabf6ee65f377d22484');

    const inputs = await readFloats(path.join(goldenDir, 'inputs.f32'));
    const expected = await readFloats(path.join(goldenDir, 'expected-prob.f32'));
    expect(inputs.length).toBe(8 * 3 * 224 * 224);
    const session = await ort.InferenceSession.create(result.onnxPath, { executionProviders: ['cpu'] });
    try {
      const outputs = await session.run({ [card.input.name]: new ort.Tensor('float32', inputs, [8, 3, 224, 224]) });
      const probabilities = outputs[card.output.name]?.data as Float32Array;
      expect(probabilities.length).toBe(8 * 1000);
      let maxAbsDiff = 0;
      for (let i = 0; i < probabilities.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs((probabilities[i] as number) - (expected[i] as number)));
      console.log(`golden ResNet50: max |ONNX - TF.js| over 8x1000 softmax values = ${maxAbsDiff.toExponential(3)}`);
      expect(maxAbsDiff).toBeLessThan(1e-4);
      const top1 = expectedTop1.map((_, row) => argmax(probabilities, row, 1000));
      expect(top1).toEqual(expectedTop1);
      expect(expectedTop1.map((_, row) => argmax(expected, row, 1000))).toEqual(expectedTop1);
    } finally {
      await session.release();
    }
  }, 240_000);

  it('keeps the existing model when its card matches, and says so', async () => {
    const first = await fetchAndConvert({ modelsDir: testModelsDir });
    const lines: string[] = [];
    const again = await fetchAndConvert({ modelsDir: testModelsDir, log: (line) => lines.push(line) });
    expect(again.reused).toBe(true);
    expect(again.sha256).toBe(first.sha256);
    expect(lines.join('\n')).toMatch(/already match/);
  }, 240_000);
});
