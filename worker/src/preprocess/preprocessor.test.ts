import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { LabelqError } from '@labelq/shared/errors';
import * as images from '../../../test/fixtures/make-bad-images.ts';
import { createPreprocessor } from './preprocessor.ts';
import { labelqFailure as failure } from '../../../test/support/expect-failure.ts';

const card = {
  input: { name: 'input', layout: 'NCHW' as const, height: 224, width: 224, channels: 3 as const },
  preprocess: { colorOrder: 'RGB' as const, scale: 1, mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number], resizeShorterSide: 256, cropSize: 224 },
};
const preprocessor = createPreprocessor(card, { maxInputPixels: 100_000_000 });
const side = 224;

/** The RGB value at (x, y) of a 224x224 HWC crop. */
function pixel(crop: Buffer, x: number, y: number): [number, number, number] {
  const i = (y * side + x) * 3;
  return [crop[i]!, crop[i + 1]!, crop[i + 2]!];
}

/** Mean value of each channel over the whole crop. */
function channelMeans(crop: Buffer): [number, number, number] {
  const sums = [0, 0, 0];
  for (let i = 0; i < crop.length; i++) sums[i % 3]! += crop[i]!;
  return sums.map((s) => s / (crop.length / 3)) as [number, number, number];
}

function expectClose(actual: number[], expected: number[], tolerance: number): void {
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]!), `channel ${i}: ${v} vs ${expected[i]}`).toBeLessThanOrEqual(tolerance));
}

describe('createPreprocessor: odd inputs become 224x224 8-bit RGB', () => {
  it('a grayscale JPEG becomes three equal channels', async () => {
    const crop = await preprocessor.decodeCrop(await images.grayscaleJpeg());
    expect(crop.length).toBe(side * side * 3);
    expectClose(channelMeans(crop), [128, 128, 128], 1);
  });

  it('a PNG with alpha is flattened onto white', async () => {
    expectClose(channelMeans(await preprocessor.decodeCrop(await images.transparentPng())), [255, 255, 255], 0.5);
    expectClose(channelMeans(await preprocessor.decodeCrop(await images.halfTransparentRedPng())), [255, 127.5, 127.5], 1.5);
  });

  it('a CMYK JPEG becomes RGB', async () => {
    const [r, g, b] = channelMeans(await preprocessor.decodeCrop(await images.cmykJpeg()));
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(60);
    expect(b).toBeLessThan(60);
  });

  it('a 16-bit PNG becomes 8-bit', async () => {
    expectClose(channelMeans(await preprocessor.decodeCrop(await images.sixteenBitPng())), [10, 200, 90], 1);
  });

  it('an animated GIF and an animated WebP give their first frame (red, not blue)', async () => {
    expectClose(channelMeans(await preprocessor.decodeCrop(await images.animatedGif())), [255, 0, 0], 1);
    expectClose(channelMeans(await preprocessor.decodeCrop(await images.animatedWebp())), [255, 0, 0], 1);
  });

  it('a WebP decodes', async () => {
    expectClose(channelMeans(await preprocessor.decodeCrop(await images.webp())), [20, 160, 40], 3);
  });

  it('honours EXIF orientation: 300x100 stored with orientation 6 comes out as 100x300, red on top', async () => {
    const bytes = await images.exifRotatedJpeg();
    const metadata = await sharp(bytes).metadata();
    expect([metadata.width, metadata.height, metadata.orientation]).toEqual([300, 100, 6]);
    const crop = await preprocessor.decodeCrop(bytes);
    // As 100x300 it is enlarged to 256x768 and cropped at top 272: the red/blue edge (y = 384) is at crop row 112.
    expectClose(pixel(crop, 112, 20), [255, 0, 0], 8);
    expectClose(pixel(crop, 112, 200), [0, 0, 255], 8);
    expectClose(pixel(crop, 10, 20), [255, 0, 0], 8); // unrotated, the left column would be red and the right blue
    expectClose(pixel(crop, 213, 20), [255, 0, 0], 8);
  });

  it('an image whose shorter side is already 256 is only cropped', async () => {
    const raw = await images.twoColourRaw(400, 256);
    const bytes = await sharp(raw.data, { raw: { width: 400, height: 256, channels: 3 } }).png().toBuffer();
    const crop = await preprocessor.decodeCrop(bytes);
    // crop left = 88: columns 0..111 are red (x < 200 in the source), 112.. blue
    expect(pixel(crop, 111, 0)).toEqual([255, 0, 0]);
    expect(pixel(crop, 112, 0)).toEqual([0, 0, 255]);
  });

  it('orientation, alpha and 16 bits also hold on the crop-only and enlarging paths', async () => {
    // Stored 600x256 with orientation 6: shown 256x600, only cropped (top 188), red above blue at y = 300.
    const raw = await images.twoColourRaw(600, 256);
    const rotated = await sharp(raw.data, { raw: { width: 600, height: 256, channels: 3 } }).png().withMetadata({ orientation: 6 }).toBuffer();
    const crop = await preprocessor.decodeCrop(rotated);
    expect(pixel(crop, 112, 111)).toEqual([255, 0, 0]);
    expect(pixel(crop, 112, 112)).toEqual([0, 0, 255]);
    expectClose(channelMeans(await preprocessor.decodeCrop(await images.halfTransparentRedPng(100, 100))), [255, 127.5, 127.5], 1.5);
    expectClose(channelMeans(await preprocessor.decodeCrop(await images.sixteenBitPng(100, 120))), [10, 200, 90], 1);
  });

  it('enlarges small and thin images of many sizes without failing (affine and resize paths)', async () => {
    for (const [width, height] of [[1, 1], [5, 7], [17, 300], [101, 77], [255, 254], [255, 1000], [99, 3000]] as const) {
      const bytes = await sharp({ create: { width, height, channels: 3, background: { r: 30, g: 60, b: 90 } } }).png().toBuffer();
      expectClose(channelMeans(await preprocessor.decodeCrop(bytes)), [30, 60, 90], 0.5);
    }
  });

  it('preprocessInto writes one image at an offset of a batch buffer and nothing else', async () => {
    const batch = new Float32Array(3 * preprocessor.floatsPerImage).fill(-1);
    await preprocessor.preprocessInto(await images.sixteenBitPng(), batch, preprocessor.floatsPerImage);
    expect(batch[0]).toBe(-1);
    expectClose([batch[preprocessor.floatsPerImage]!], [10], 1); // R plane, first pixel
    expectClose([batch[2 * preprocessor.floatsPerImage - 1]!], [90], 1); // B plane, last pixel
    expect(batch[2 * preprocessor.floatsPerImage]).toBe(-1);
    const single = await preprocessor.preprocess(await images.sixteenBitPng());
    expect(single).toEqual(batch.subarray(preprocessor.floatsPerImage, 2 * preprocessor.floatsPerImage));
  });
});

describe('createPreprocessor: broken inputs become item errors', () => {
  it('zero bytes → IMAGE_EMPTY', async () => {
    const error = await failure(preprocessor.decodeCrop(Buffer.alloc(0)));
    expect(error.code).toBe('IMAGE_EMPTY');
  });

  it('a truncated JPEG → IMAGE_DECODE_FAILED saying the data ends early', async () => {
    for (const fraction of [0.5, 0.1, 0.002]) {
      const error = await failure(preprocessor.decodeCrop(await images.truncatedJpeg(fraction)));
      expect(error.code).toBe('IMAGE_DECODE_FAILED');
      expect(error.message).toMatch(/premature end of JPEG/);
      expect(error.message).not.toMatch(/\n|at .*\.js/);
    }
  });

  it('corrupt JPEG data: decoded by default (as PIL does), refused with failOn "warning"', async () => {
    const bytes = await images.corruptJpeg();
    expect((await preprocessor.decodeCrop(bytes)).length).toBe(side * side * 3);
    const strict = createPreprocessor(card, { maxInputPixels: 100_000_000, failOn: 'warning' });
    const error = await failure(strict.decodeCrop(bytes));
    expect(error.code).toBe('IMAGE_DECODE_FAILED');
    expect(error.message).toMatch(/^The JPEG image could not be decoded: .*corrupt/i);
  });

  it('a text file → IMAGE_DECODE_FAILED naming what it starts with', async () => {
    const error = await failure(preprocessor.decodeCrop(images.textFile()));
    expect(error.code).toBe('IMAGE_DECODE_FAILED');
    expect(error.message).toContain('not an image');
    expect(error.message).toContain('This is a te');
  });

  it('a BMP (an image format sharp cannot read) → IMAGE_UNSUPPORTED_FORMAT', async () => {
    const error = await failure(preprocessor.decodeCrop(images.tinyBmp()));
    expect(error.code).toBe('IMAGE_UNSUPPORTED_FORMAT');
    expect(error.message).toContain('BMP');
  });

  it('a 90-byte PNG declaring 100000x100000 pixels → IMAGE_TOO_MANY_PIXELS from its header, without decoding', async () => {
    const bytes = await images.pngDeclaringHugeSize(100_000, 100_000);
    expect(bytes.length).toBeLessThan(200);
    const started = performance.now();
    const error = await failure(preprocessor.decodeCrop(bytes));
    expect(error.code).toBe('IMAGE_TOO_MANY_PIXELS');
    expect(error.message).toContain('100000x100000');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a real 3000x3000 solid PNG of a few KB → IMAGE_TOO_MANY_PIXELS when the limit is 1 000 000', async () => {
    const bytes = await images.hugeSolidPng(3000, 3000);
    expect(bytes.length).toBeLessThan(100_000);
    const limited = createPreprocessor(card, { maxInputPixels: 1_000_000 });
    const error = await failure(limited.decodeCrop(bytes));
    expect(error.code).toBe('IMAGE_TOO_MANY_PIXELS');
    expect(error.message).toContain('3000x3000 = 9000000 pixels');
  });

  it('many broken and good images at once: each gets its own outcome, nothing crashes', async () => {
    const inputs = [Buffer.alloc(0), await images.truncatedJpeg(), images.textFile(), await images.grayscaleJpeg(), await images.corruptJpeg()];
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => preprocessor.decodeCrop(inputs[i % inputs.length]!)));
    const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as LabelqError).code));
    expect(codes.slice(0, 5)).toEqual(['IMAGE_EMPTY', 'IMAGE_DECODE_FAILED', 'IMAGE_DECODE_FAILED', 'ok', 'ok']);
    expect(codes.slice(5, 10)).toEqual(codes.slice(0, 5));
  });

  it('refuses a card whose crop does not match the model input', () => {
    expect(() => createPreprocessor({ ...card, input: { ...card.input, height: 299 } }, { maxInputPixels: 1000 })).toThrow(/crops to 224/);
  });
});
