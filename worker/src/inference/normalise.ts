import type { ModelCard } from '@labelq/shared/model-card';

/**
 * Turns cropped RGB bytes (HWC, 0..255) into the model's input values: channel order, scale, mean and std
 * from the model card, NCHW or NHWC. Per channel the work is one multiply-add: value * gain + bias.
 */
export interface Normaliser {
  readonly floatsPerImage: number;
  /** Writes `count` crops (packed one after another in `crops`) into `target` from image 0. */
  writeBatch(crops: Uint8Array, count: number, target: Float32Array): void;
}

export function createNormaliser(card: ModelCard): Normaliser {
  const { height, width, layout } = card.input;
  const { colorOrder, scale, mean, std } = card.preprocess;
  const pixels = height * width;
  const floatsPerImage = pixels * 3;
  // For model channel c, the RGB source channel and the affine constants.
  const source = colorOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const gain = [0, 1, 2].map((c) => scale / std[c]!);
  const bias = [0, 1, 2].map((c) => -mean[c]! / std[c]!);

  function writeNchw(crops: Uint8Array, cropOffset: number, target: Float32Array, targetOffset: number): void {
    for (let c = 0; c < 3; c++) {
      const g = gain[c]!;
      const b = bias[c]!;
      const plane = targetOffset + c * pixels;
      let from = cropOffset + source[c]!;
      for (let p = 0; p < pixels; p++, from += 3) target[plane + p] = crops[from]! * g + b;
    }
  }

  function writeNhwc(crops: Uint8Array, cropOffset: number, target: Float32Array, targetOffset: number): void {
    for (let p = 0; p < pixels; p++) {
      const from = cropOffset + p * 3;
      const to = targetOffset + p * 3;
      for (let c = 0; c < 3; c++) target[to + c] = crops[from + source[c]!]! * gain[c]! + bias[c]!;
    }
  }

  const write = layout === 'NCHW' ? writeNchw : writeNhwc;
  return {
    floatsPerImage,
    writeBatch(crops, count, target) {
      for (let i = 0; i < count; i++) write(crops, i * floatsPerImage, target, i * floatsPerImage);
    },
  };
}
