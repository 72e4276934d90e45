import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { sharedDataDir } from './shared-data.ts';

/**
 * Real photographs converted to the formats people send (for "labelled like the JPEG" checks), and broken
 * files, all made at test time: nothing binary is committed. Broken images that need no photograph are in
 * test/fixtures/make-bad-images.ts.
 */

/** A sample photograph (imagenet-sample/<file>) as bytes. */
export function samplePhoto(file: string): Buffer {
  return readFileSync(join(sharedDataDir(), 'imagenet-sample', file));
}

/** The photograph as a PNG with an alpha channel (fully opaque, so it shows the same picture). */
export function photoAsAlphaPng(photo: Buffer): Promise<Buffer> {
  return sharp(photo).ensureAlpha(1).png().toBuffer();
}

/** The photograph as a CMYK JPEG. */
export function photoAsCmykJpeg(photo: Buffer): Promise<Buffer> {
  return sharp(photo).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
}

/** The photograph as a 16-bit per channel PNG. */
export function photoAs16BitPng(photo: Buffer): Promise<Buffer> {
  return sharp(photo).toColourspace('rgb16').png().toBuffer();
}

/** The photograph as lossy WebP. */
export function photoAsWebp(photo: Buffer): Promise<Buffer> {
  return sharp(photo).webp({ quality: 90 }).toBuffer();
}

/** An animated GIF whose first frame is `first` and whose second frame is `second` (resized to the same size). */
export async function photosAsAnimatedGif(first: Buffer, second: Buffer): Promise<Buffer> {
  const { width, height } = await sharp(first).metadata();
  const frames = [await sharp(first).png().toBuffer(), await sharp(second).resize(width, height, { fit: 'fill' }).png().toBuffer()];
  return sharp(frames, { join: { animated: true } }).gif({ delay: [500, 500] }).toBuffer();
}

/**
 * A JPEG whose Huffman table (DHT segment) is overwritten: the file starts like a JPEG, but libjpeg refuses the
 * data ("Bogus Huffman table definition"). Damage to the picture data alone is often recovered from (libjpeg's
 * "corrupt JPEG data" warnings, tolerated as PIL tolerates them); a broken table is not.
 */
export function photoWithCorruptHuffmanTable(photo: Buffer): Buffer {
  const bytes = Buffer.from(photo);
  const dht = bytes.indexOf(Buffer.from([0xff, 0xc4]));
  if (dht < 0) throw new Error('the photograph has no DHT segment');
  bytes.fill(0xff, dht + 5, dht + 21); // the 16 code-length counts: far more codes than a table can hold
  return bytes;
}

/** The photograph with end-of-image markers written into its picture data: libjpeg warns and decodes. */
export function photoWithCorruptScanData(photo: Buffer): Buffer {
  const bytes = Buffer.from(photo);
  const sos = bytes.indexOf(Buffer.from([0xff, 0xda]));
  if (sos < 0) throw new Error('the photograph has no SOS marker');
  for (let i = sos + 20; i < bytes.length - 2; i += 50) {
    bytes[i] = 0xff;
    bytes[i + 1] = 0xd9;
  }
  return bytes;
}
