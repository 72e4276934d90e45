import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedDataDir } from '../../test/support/shared-data.ts';
import { imageMediaType } from './image-type.ts';

describe('imageMediaType', () => {
  it('recognises a real JPEG of the sample', () => {
    const folder = join(sharedDataDir(), 'imagenet-sample');
    const first = readdirSync(folder).find((name) => name.endsWith('.JPEG'))!;
    expect(imageMediaType(readFileSync(join(folder, first)))).toBe('image/jpeg');
  });

  it('recognises PNG, GIF, WebP, AVIF and BMP by their first bytes', () => {
    expect(imageMediaType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe('image/png');
    expect(imageMediaType(Buffer.from('GIF89a...'))).toBe('image/gif');
    expect(imageMediaType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(imageMediaType(Buffer.from('\0\0\0\x1cftypavif'))).toBe('image/avif');
    expect(imageMediaType(Buffer.from('BM\0\0'))).toBe('image/bmp');
  });

  it('refuses anything else: text, HTML, SVG, an empty file', () => {
    expect(imageMediaType(Buffer.from('root:x:0:0:root:/root:/bin/bash\n'))).toBeUndefined();
    expect(imageMediaType(Buffer.from('<html><script>alert(1)</script>'))).toBeUndefined();
    expect(imageMediaType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
    expect(imageMediaType(Buffer.alloc(0))).toBeUndefined();
  });
});
