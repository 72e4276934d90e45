import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPreprocessor } from './preprocessor.ts';
import { createNormaliser } from './normaliser.ts';
import { sharedDataDir } from '../../../test/support/shared-data.ts';

/**
 * Our crops against the PIL reference crops of the original model's preprocessing (shared/data/golden):
 * sharp interpolates differently from PIL, so the comparison is the mean absolute difference per channel value.
 */
const goldenDir = path.join(sharedDataDir(), 'golden/resnet50-keras');
const sampleDir = path.join(sharedDataDir(), 'imagenet-sample');
const haveData = existsSync(path.join(goldenDir, 'pil-crops.u8'));

const card = {
  input: { name: 'input', layout: 'NCHW' as const, height: 224, width: 224, channels: 3 as const },
  preprocess: { colorOrder: 'BGR' as const, scale: 1, mean: [103.939, 116.779, 123.68] as [number, number, number], std: [1, 1, 1] as [number, number, number], resizeShorterSide: 256, cropSize: 224 },
};
const cropBytes = 224 * 224 * 3;

describe.skipIf(!haveData)(`golden crops (${goldenDir})`, () => {
  const names = haveData ? readFileSync(path.join(goldenDir, 'images.txt'), 'utf8').trim().split('\n') : [];
  const crops = haveData ? readFileSync(path.join(goldenDir, 'pil-crops.u8')) : Buffer.alloc(0);

  it('decodeCrop stays within 3 levels of 255 (mean absolute difference) of the PIL crop on every golden image', async () => {
    const preprocessor = createPreprocessor(card, { maxInputPixels: 100_000_000 });
    const rows: { image: string; meanAbsDiff: number; maxAbsDiff: number }[] = [];
    for (const [i, name] of names.entries()) {
      const ours = await preprocessor.decodeCrop(readFileSync(path.join(sampleDir, name)));
      const reference = crops.subarray(i * cropBytes, (i + 1) * cropBytes);
      expect(ours.length).toBe(cropBytes);
      let sum = 0;
      let max = 0;
      for (let k = 0; k < cropBytes; k++) {
        const d = Math.abs(ours[k]! - reference[k]!);
        sum += d;
        if (d > max) max = d;
      }
      rows.push({ image: name, meanAbsDiff: Number((sum / cropBytes).toFixed(3)), maxAbsDiff: max });
    }
    console.log('decodeCrop vs PIL reference crops (levels of 255):');
    console.table(rows);
    for (const row of rows) expect(row.meanAbsDiff, row.image).toBeLessThanOrEqual(3);
  });

  it('normalising the reference crops reproduces inputs.f32 (BGR, caffe means, NCHW)', () => {
    const inputs = readFileSync(path.join(goldenDir, 'inputs.f32'));
    const expected = new Float32Array(inputs.buffer, inputs.byteOffset, inputs.byteLength / 4);
    const normaliser = createNormaliser(card);
    const batch = new Float32Array(names.length * normaliser.floatsPerImage);
    for (let i = 0; i < names.length; i++) {
      normaliser.writeInto(crops.subarray(i * cropBytes, (i + 1) * cropBytes), batch, i * normaliser.floatsPerImage);
    }
    // Same bytes, same arithmetic up to float32 rounding of (value − mean): half an ulp of numbers below 256.
    let maxDiff = 0;
    for (let k = 0; k < expected.length; k++) maxDiff = Math.max(maxDiff, Math.abs(batch[k]! - expected[k]!));
    console.log(`normalised reference crops vs inputs.f32: max abs difference ${maxDiff}`);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  });

  it('preprocess of the golden images follows inputs.f32 within the crop difference (mean ≤ 3 per value)', async () => {
    const inputs = readFileSync(path.join(goldenDir, 'inputs.f32'));
    const expected = new Float32Array(inputs.buffer, inputs.byteOffset, inputs.byteLength / 4);
    const preprocessor = createPreprocessor(card, { maxInputPixels: 100_000_000 });
    const batch = new Float32Array(names.length * preprocessor.floatsPerImage);
    for (const [i, name] of names.entries()) {
      await preprocessor.preprocessInto(readFileSync(path.join(sampleDir, name)), batch, i * preprocessor.floatsPerImage);
    }
    for (let i = 0; i < names.length; i++) {
      let sum = 0;
      const from = i * preprocessor.floatsPerImage;
      for (let k = from; k < from + preprocessor.floatsPerImage; k++) sum += Math.abs(batch[k]! - expected[k]!);
      // scale 1 and std 1: one level of 255 is one unit of the tensor, so the crop tolerance carries over.
      expect(sum / preprocessor.floatsPerImage, names[i]).toBeLessThanOrEqual(3);
    }
  });
});
