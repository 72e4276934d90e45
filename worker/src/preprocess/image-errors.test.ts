import { describe, expect, it } from 'vitest';
import { imageErrorFromSharp } from './image-errors.ts';

const jpegStart = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]);
const maxInputPixels = 100_000_000;

describe('imageErrorFromSharp', () => {
  it('names libvips reason when it gives one', () => {
    const error = imageErrorFromSharp(new Error('VipsJpeg: Premature end of input file'), jpegStart, 'jpeg', maxInputPixels);
    expect(error.code).toBe('IMAGE_DECODE_FAILED');
    expect(error.message).toBe('The JPEG image could not be decoded: Premature end of input file.');
  });

  it('says a JPEG without its end marker is probably truncated when libvips lost its reason', () => {
    const error = imageErrorFromSharp(new Error('Unknown error'), jpegStart, 'jpeg', maxInputPixels);
    expect(error.code).toBe('IMAGE_DECODE_FAILED');
    expect(error.message).toMatch(/^The JPEG image could not be decoded: the data ends before the image does .*truncated\.$/);
  });

  it('does not guess truncation for a whole JPEG', () => {
    const whole = Buffer.concat([jpegStart, Buffer.from([0x00, 0xff, 0xd9])]);
    const error = imageErrorFromSharp(new Error('Unknown error.'), whole, 'jpeg', maxInputPixels);
    expect(error.message).toBe('The JPEG image could not be decoded (the decoder gave no reason).');
  });
});
