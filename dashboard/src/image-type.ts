/**
 * The media type of image bytes a browser shows, from their first bytes (magic numbers), or undefined when they are
 * not such an image. The dashboard serves nothing else, whatever a record's URI names.
 */
export function imageMediaType(bytes: Uint8Array): string | undefined {
  const starts = (...values: number[]): boolean => values.every((value, i) => bytes[i] === value);
  const ascii = (offset: number, text: string): boolean => [...text].every((c, i) => bytes[offset + i] === c.charCodeAt(0));
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'image/gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'image/webp';
  if (ascii(4, 'ftypavif')) return 'image/avif';
  if (starts(0x42, 0x4d)) return 'image/bmp';
  return undefined;
}
