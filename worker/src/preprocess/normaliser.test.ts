import { describe, expect, it } from 'vitest';
import { createNormaliser } from './normaliser.ts';

function card(layout: 'NCHW' | 'NHWC', colorOrder: 'RGB' | 'BGR') {
  return {
    input: { name: 'x', layout, height: 2, width: 2, channels: 3 as const },
    preprocess: { colorOrder, scale: 1 / 255, mean: [0.5, 0.25, 0] as [number, number, number], std: [0.5, 0.25, 2] as [number, number, number], resizeShorterSide: 2, cropSize: 2 },
  };
}
// Four pixels, RGB: (255,0,0) (0,255,0) (0,0,255) (51,102,153)
const crop = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 51, 102, 153]);
const f = (v: number, c: number, mean: number[], std: number[]) => (v / 255 - mean[c]!) / std[c]!;

describe('createNormaliser', () => {
  it('writes NCHW planes in the card colour order with scale, mean and std', () => {
    const n = createNormaliser(card('NCHW', 'RGB'));
    const out = new Float32Array(2 + 12);
    n.writeInto(crop, out, 2);
    const m = [0.5, 0.25, 0];
    const s = [0.5, 0.25, 2];
    const expected = [0, 1, 2].flatMap((c) => [0, 1, 2, 3].map((p) => f(crop[p * 3 + c]!, c, m, s)));
    expect(Array.from(out.subarray(2))).toEqual(expected.map((v) => Math.fround(v)));
    expect(out[0]).toBe(0);
  });

  it('writes NHWC in BGR order', () => {
    const n = createNormaliser(card('NHWC', 'BGR'));
    const out = new Float32Array(12);
    n.writeInto(crop, out, 0);
    const m = [0.5, 0.25, 0];
    const s = [0.5, 0.25, 2];
    // model channel c reads RGB channel 2 − c; mean/std are in model order
    const expected = [0, 1, 2, 3].flatMap((p) => [0, 1, 2].map((c) => f(crop[p * 3 + (2 - c)]!, c, m, s)));
    expect(Array.from(out)).toEqual(expected.map((v) => Math.fround(v)));
  });

  it('refuses an offset that does not fit the target', () => {
    const n = createNormaliser(card('NCHW', 'RGB'));
    expect(() => n.writeInto(crop, new Float32Array(12), 1)).toThrow(RangeError);
    expect(() => n.writeInto(crop.subarray(3), new Float32Array(12), 0)).toThrow(RangeError);
  });
});
