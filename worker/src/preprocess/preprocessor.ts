import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { LabelqError, itemError } from '@labelq/shared/errors';
import type { ModelCard } from '@labelq/shared/model-card';
import { emptyImageError, imageErrorFromSharp, tooManyPixelsError } from './image-errors.ts';
import { createNormaliser } from './normaliser.ts';
import { planResizeAndCrop, type ResizePlan } from './resize-plan.ts';

/**
 * Image bytes → the model's input tensor, following the model card:
 *   decode (first frame of an animation) → EXIF orientation → alpha flattened onto white → 8-bit sRGB RGB →
 *   shorter side to `resizeShorterSide` → centre crop `cropSize` (torchvision's offsets) → colour order, scale,
 *   mean/std → NCHW or NHWC float32.
 *
 * Choices, each measured against the PIL reference crops in shared/data/golden (see preprocess.golden.test.ts):
 * - Reducing uses sharp's `linear` kernel (PIL's antialiased bilinear is the same triangle filter); the default
 *   lanczos3 differs by up to 4.1 levels of 255. `fastShrinkOnLoad` is off: JPEG shrink-on-load (DCT scaling)
 *   moved the 1836x1377 golden image from 0.77 to 0.95 levels; it is off by default (`fastShrinkOnLoad: true`
 *   trades that for speed on large photographs).
 * - Enlarging (shorter side under `resizeShorterSide`) uses an affine transform with PIL's pixel-centre
 *   alignment and bilinear interpolation: 0.14 levels on the 100x100 golden image, against 1.65 with resize().
 * - Embedded ICC profiles are ignored, as PIL (the reference, and what the model was trained with) ignores
 *   them; converting through them moved some sample images by up to 17 levels. CMYK still becomes RGB
 *   (through libvips' built-in CMYK profile).
 * - Transparent pixels are composited onto white (255, 255, 255) before resizing; PIL's convert('RGB') would
 *   instead expose whatever colour the transparent pixels happen to store.
 * - `failOn: 'error'` (default): truncated or unreadable data fails with IMAGE_DECODE_FAILED; libjpeg warnings
 *   such as "corrupt JPEG data: extraneous bytes" are tolerated, as PIL tolerates them. `'warning'` is stricter
 *   and also refuses images with damaged (but decodable) data.
 */
export interface Preprocessor {
  /** Floats one image occupies in a batch buffer: 3 × cropSize². */
  readonly floatsPerImage: number;
  /** The centre crop as uint8 RGB, HWC, cropSize × cropSize × 3 bytes (for comparison and thumbnails). */
  decodeCrop(bytes: Buffer): Promise<Buffer>;
  /** Writes one image's normalised tensor into `target` from `offset` (in floats); no allocation per image. */
  preprocessInto(bytes: Buffer, target: Float32Array, offset: number): Promise<void>;
  /** The normalised tensor of one image in a new Float32Array (convenience; not for the hot path). */
  preprocess(bytes: Buffer): Promise<Float32Array>;
}

export type DecodeStrictness = 'truncated' | 'error' | 'warning';

export interface PreprocessorLimits {
  /** Largest image decoded, in pixels (width × height); larger ones are refused from their header. */
  maxInputPixels: number;
  /** How damaged data may be before decoding fails (sharp's failOn); default 'error'. */
  failOn?: DecodeStrictness;
  /** JPEG/WebP shrink-on-load for large reductions: faster, slightly less faithful; default false. */
  fastShrinkOnLoad?: boolean;
}

/** The colour transparent pixels are composited onto. */
export const alphaBackground = { r: 255, g: 255, b: 255 } as const;

/** Above this enlargement the affine path would sample outside the image at the crop's edges; resize() instead. */
const maxAffineScale = 16;

export function createPreprocessor(card: Pick<ModelCard, 'input' | 'preprocess'>, limits: PreprocessorLimits): Preprocessor {
  const { resizeShorterSide, cropSize } = card.preprocess;
  if (cropSize !== card.input.height || cropSize !== card.input.width) {
    throw new LabelqError('MODEL_INVALID', `The model card crops to ${cropSize} but the model input is ${card.input.height}x${card.input.width}.`);
  }
  if (cropSize > resizeShorterSide) {
    throw new LabelqError('MODEL_INVALID', `The model card crops to ${cropSize}, more than the ${resizeShorterSide} the shorter side is resized to.`);
  }
  if (!(Number.isInteger(limits.maxInputPixels) && limits.maxInputPixels > 0)) {
    throw new RangeError(`maxInputPixels must be a positive integer, not ${limits.maxInputPixels}`);
  }
  const failOn = limits.failOn ?? 'error';
  const fastShrinkOnLoad = limits.fastShrinkOnLoad ?? false;
  const maxInputPixels = limits.maxInputPixels;
  const normaliser = createNormaliser(card);
  const cropBytes = cropSize * cropSize * 3;

  async function readPlan(bytes: Buffer): Promise<{ plan: ResizePlan; hasAlpha: boolean; format: string | undefined }> {
    // The header only: cheap, and it lets a decompression bomb be refused with its size in the message.
    let metadata: Metadata;
    try {
      metadata = await sharp(bytes, { failOn, limitInputPixels: false }).metadata();
    } catch (error) {
      throw imageErrorFromSharp(error, bytes, undefined, maxInputPixels);
    }
    const { width, height } = metadata;
    if (!(width > 0 && height > 0)) {
      throw itemError('IMAGE_DECODE_FAILED', `The ${metadata.format.toUpperCase()} image declares no size (${width}x${height}).`);
    }
    if (width * height > maxInputPixels) throw tooManyPixelsError(width, height, maxInputPixels);
    const oriented = metadata.autoOrient ?? { width, height };
    return {
      plan: planResizeAndCrop(oriented.width, oriented.height, resizeShorterSide, cropSize),
      hasAlpha: metadata.hasAlpha,
      format: metadata.format,
    };
  }

  async function decodeCrop(bytes: Buffer): Promise<Buffer> {
    if (bytes.length === 0) throw emptyImageError();
    const { plan, hasAlpha, format } = await readPlan(bytes);
    // limitInputPixels again: the header was read by a separate call, and the check costs nothing.
    let pipeline = sharp(bytes, { failOn, limitInputPixels: maxInputPixels, ignoreIcc: true }).autoOrient();
    if (hasAlpha) pipeline = pipeline.flatten({ background: alphaBackground });
    const crop = { left: plan.cropLeft, top: plan.cropTop, width: cropSize, height: cropSize };
    const scaleX = plan.resizedWidth / plan.sourceWidth;
    const scaleY = plan.resizedHeight / plan.sourceHeight;
    const useAffine = plan.direction === 'up' && Math.max(scaleX, scaleY) <= maxAffineScale;
    if (plan.direction === 'none') {
      pipeline = pipeline.extract(crop);
    } else if (useAffine) {
      // Output pixel x samples input (x + 0.5) / scale − 0.5, PIL's pixel-centre alignment. sharp applies affine
      // after extract, so the crop is cut from the enlarged image below.
      pipeline = pipeline.affine([scaleX, 0, 0, scaleY], {
        odx: 0.5 * scaleX - 0.5,
        ody: 0.5 * scaleY - 0.5,
        interpolator: sharp.interpolators.bilinear,
      });
    } else {
      pipeline = pipeline
        .resize(plan.resizedWidth, plan.resizedHeight, { kernel: 'linear', fit: 'fill', fastShrinkOnLoad })
        .extract(crop);
    }
    let output: { data: Buffer; info: OutputInfo };
    try {
      output = await pipeline.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    } catch (error) {
      throw imageErrorFromSharp(error, bytes, format, maxInputPixels);
    }
    const { data, info } = output;
    if (info.channels !== 3) throw new Error(`sharp gave ${info.channels} channels where 3 (sRGB) were asked for`);
    if (!useAffine) {
      if (data.length !== cropBytes) throw new Error(`sharp gave ${info.width}x${info.height} where the ${cropSize}x${cropSize} crop was asked for`);
      return data;
    }
    return cutCrop(data, info.width, info.height, plan);
  }

  function cutCrop(data: Buffer, width: number, height: number, plan: ResizePlan): Buffer {
    if (plan.cropLeft + cropSize > width || plan.cropTop + cropSize > height) {
      throw new Error(`the enlarged image is ${width}x${height}, too small for the crop at ${plan.cropLeft},${plan.cropTop}`);
    }
    const out = Buffer.allocUnsafe(cropBytes);
    const rowBytes = cropSize * 3;
    for (let y = 0; y < cropSize; y++) {
      const from = ((plan.cropTop + y) * width + plan.cropLeft) * 3;
      data.copy(out, y * rowBytes, from, from + rowBytes);
    }
    return out;
  }

  return {
    floatsPerImage: normaliser.floatsPerImage,
    decodeCrop,
    async preprocessInto(bytes, target, offset) {
      normaliser.writeInto(await decodeCrop(bytes), target, offset);
    },
    async preprocess(bytes) {
      const target = new Float32Array(normaliser.floatsPerImage);
      normaliser.writeInto(await decodeCrop(bytes), target, 0);
      return target;
    },
  };
}
