import type { ModelCard } from '@labelq/shared/model-card';

/**
 * Turns one crop (uint8 RGB, HWC, as sharp gives it) into the model's input: reorder to the card's colour order,
 * then value × scale, then (v − mean[c]) / std[c]. Everything per channel is folded into one multiply-add:
 * out = byte × multiplier[c] + addend[c], with multiplier = scale / std and addend = −mean / std.
 */
export interface Normaliser {
  /** Floats one image takes: 3 × cropSize². */
  readonly floatsPerImage: number;
  /** Writes the normalised tensor of `crop` into `target` starting at `offset` (in floats). */
  writeInto(crop: Uint8Array, target: Float32Array, offset: number): void;
}

export function createNormaliser(card: Pick<ModelCard, 'input' | 'preprocess'>): Normaliser {
  const { colorOrder, scale, mean, std, cropSize } = card.preprocess;
  const pixels = cropSize * cropSize;
  const floatsPerImage = pixels * 3;
  // Model channel c reads source (RGB) channel sourceOf[c].
  const sourceOf = colorOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  // Kept as doubles: only the stored result is rounded to float32.
  const multiplier = std.map((s) => scale / s);
  const addend = mean.map((m, c) => -m / std[c]!);
  const [s0, s1, s2] = sourceOf as [number, number, number];
  const [m0, m1, m2] = multiplier as [number, number, number];
  const [a0, a1, a2] = addend as [number, number, number];
  const planar = card.input.layout === 'NCHW';

  return {
    floatsPerImage,
    writeInto(crop, target, offset) {
      if (crop.length !== floatsPerImage) {
        throw new RangeError(`the crop holds ${crop.length} bytes; ${floatsPerImage} (${cropSize}x${cropSize}x3) were expected`);
      }
      if (!Number.isInteger(offset) || offset < 0 || offset + floatsPerImage > target.length) {
        throw new RangeError(`offset ${offset} + ${floatsPerImage} floats does not fit a target of ${target.length} floats`);
      }
      if (planar) {
        const p0 = offset;
        const p1 = offset + pixels;
        const p2 = offset + 2 * pixels;
        for (let i = 0, j = 0; i < pixels; i++, j += 3) {
          target[p0 + i] = crop[j + s0]! * m0 + a0;
          target[p1 + i] = crop[j + s1]! * m1 + a1;
          target[p2 + i] = crop[j + s2]! * m2 + a2;
        }
      } else {
        for (let j = 0; j < floatsPerImage; j += 3) {
          target[offset + j] = crop[j + s0]! * m0 + a0;
          target[offset + j + 1] = crop[j + s1]! * m1 + a1;
          target[offset + j + 2] = crop[j + s2]! * m2 + a2;
        }
      }
    },
  };
}
