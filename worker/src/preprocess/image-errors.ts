import { itemError, isLabelqError, type LabelqError } from '@labelq/shared/errors';

/**
 * Turns what sharp/libvips throws into item errors whose messages say what is wrong with the image, in one line
 * (libvips repeats lines and prefixes them with its loader's name; no stack traces in records).
 */

/** Image formats people send that the prebuilt libvips in sharp cannot read, recognised by their first bytes. */
const unreadableSignatures: { name: string; matches: (bytes: Buffer) => boolean }[] = [
  { name: 'BMP', matches: (b) => b.length >= 14 && b.toString('latin1', 0, 2) === 'BM' && b.readUInt32LE(10) < b.length + 1 },
  { name: 'ICO', matches: (b) => b.length >= 6 && b.readUInt32BE(0) === 0x00000100 && b.readUInt16LE(4) > 0 },
  { name: 'Photoshop PSD', matches: (b) => b.toString('latin1', 0, 4) === '8BPS' },
  { name: 'HEIC/HEIF (HEVC)', matches: (b) => b.toString('latin1', 4, 8) === 'ftyp' && /^(heic|heix|hevc|hevx|heim|heis)$/.test(b.toString('latin1', 8, 12)) },
];

/** The name of a known image format sharp cannot read, or undefined when the bytes are not one of them. */
export function unreadableFormatName(bytes: Buffer): string | undefined {
  return unreadableSignatures.find((s) => s.matches(bytes))?.name;
}

/** libvips' message reduced to its distinct lines, loader prefixes removed, cut to a readable length. */
export function cleanLibvipsMessage(message: string): string {
  const lines = message
    .split('\n')
    .map((line) => line.replace(/^Input (buffer|file) has corrupt header:\s*/i, '').replace(/^(Vips\w+|\w+load(_\w+)?):\s*/, '').trim())
    .filter((line) => line.length > 0);
  const distinct = [...new Set(lines)].join('; ');
  return distinct.length > 300 ? `${distinct.slice(0, 300)}…` : distinct;
}

export function emptyImageError(): LabelqError {
  return itemError('IMAGE_EMPTY', 'The image is empty (0 bytes).');
}

export function tooManyPixelsError(width: number, height: number, maxInputPixels: number): LabelqError {
  return itemError(
    'IMAGE_TOO_MANY_PIXELS',
    `The image is ${width}x${height} = ${width * height} pixels, more than the ${maxInputPixels} allowed (maxInputPixels); it was not decoded.`,
  );
}

/** Maps an error thrown by sharp while reading `bytes` (format = what the header said, when known). */
export function imageErrorFromSharp(error: unknown, bytes: Buffer, format: string | undefined, maxInputPixels: number): LabelqError {
  if (isLabelqError(error)) return error;
  const raw = error instanceof Error ? error.message : String(error);
  const message = cleanLibvipsMessage(raw);
  if (/unsupported image format/i.test(raw)) {
    const known = unreadableFormatName(bytes);
    if (known !== undefined) {
      return itemError('IMAGE_UNSUPPORTED_FORMAT', `The image is ${known}, a format labelq cannot decode; convert it to JPEG, PNG or WebP.`, error);
    }
    return itemError(
      'IMAGE_DECODE_FAILED',
      `The data is not an image in any format labelq can decode (it starts with ${describeStart(bytes)}).`,
      error,
    );
  }
  if (/exceeds pixel limit/i.test(raw)) {
    return itemError('IMAGE_TOO_MANY_PIXELS', `The image has more than the ${maxInputPixels} pixels allowed (maxInputPixels); it was not decoded.`, error);
  }
  const shownFormat = format ?? formatBySignature(bytes);
  const what = shownFormat === undefined ? 'The image' : `The ${shownFormat.toUpperCase()} image`;
  if (/^unknown error\.?$/i.test(message.trim())) {
    // sharp sometimes reports a libvips failure as "Unknown error" (seen with several decodes at once): say what the bytes show.
    const truncated = shownFormat === 'jpeg' && !endsWithJpegEndMarker(bytes) ? ': the data ends before the image does (no end-of-image marker), so the file is probably truncated' : '';
    return itemError('IMAGE_DECODE_FAILED', `${what} could not be decoded${truncated || ' (the decoder gave no reason)'}.`, error);
  }
  return itemError('IMAGE_DECODE_FAILED', `${what} could not be decoded: ${message}.`, error);
}

/** Whether JPEG data ends with its end-of-image marker (FF D9); a truncated download does not. */
function endsWithJpegEndMarker(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[bytes.length - 2] === 0xff && bytes[bytes.length - 1] === 0xd9;
}

/** The format the first bytes announce, for messages when libvips could not read the header. */
function formatBySignature(bytes: Buffer): string | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.toString('latin1', 1, 4) === 'PNG') return 'png';
  if (bytes.toString('latin1', 0, 4) === 'GIF8') return 'gif';
  if (bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/** The first bytes, as text when they are printable, else as hex; for messages only. */
function describeStart(bytes: Buffer): string {
  const head = bytes.subarray(0, 12);
  const text = head.toString('latin1');
  if (/^[\x20-\x7e\t\r\n]+$/.test(text)) return JSON.stringify(text + (bytes.length > head.length ? '…' : ''));
  return `the bytes ${head.toString('hex').replace(/(..)/g, '$1 ').trim()}`;
}
