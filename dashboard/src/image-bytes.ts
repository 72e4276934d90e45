import { open } from 'node:fs/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ItemUri } from '@labelq/shared/uri';

/** Why an image cannot be served as a thumbnail; `status` is the HTTP status to answer with. */
export class ThumbnailError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'ThumbnailError';
    this.status = status;
  }
}

/**
 * The bytes of a file:// or s3:// item, at most `maxImageBytes` (a larger image is refused with 413 before it is
 * read whole). The dashboard calls this only for URIs taken from a run's label records.
 */
export async function readImageBytes(item: ItemUri, s3: () => S3Client, maxImageBytes: number): Promise<Buffer> {
  if (item.kind === 'file') return readFileCapped(item.path, maxImageBytes);
  if (item.kind === 's3') return readS3Capped(s3(), item.bucket, item.key, maxImageBytes);
  throw new ThumbnailError(400, 'http(s) images are linked directly, not served by the dashboard.');
}

function tooLarge(where: string, bytes: number, maxImageBytes: number): ThumbnailError {
  return new ThumbnailError(413, `${where} is ${bytes} bytes, more than the dashboard serves (LABELQ_DASHBOARD_MAX_IMAGE_BYTES = ${maxImageBytes}).`);
}

async function readFileCapped(path: string, maxImageBytes: number): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ThumbnailError(code === 'ENOENT' ? 404 : 502, `Could not open ${path}: ${code ?? (error as Error).message}.`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ThumbnailError(404, `${path} is not a file.`);
    if (stat.size > maxImageBytes) throw tooLarge(path, stat.size, maxImageBytes);
    // Read at most one byte more than the cap: a file that grew since the stat is refused too.
    const buffer = Buffer.alloc(Math.min(stat.size, maxImageBytes) + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxImageBytes) throw tooLarge(path, length, maxImageBytes);
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

async function readS3Capped(client: S3Client, bucket: string, key: string, maxImageBytes: number): Promise<Buffer> {
  const where = `s3://${bucket}/${key}`;
  let response;
  try {
    response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    const name = (error as { name?: string }).name;
    throw new ThumbnailError(name === 'NoSuchKey' ? 404 : 502, `Could not read ${where}: ${name ?? 'Error'}.`);
  }
  const body = response.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
  if (body === undefined) return Buffer.alloc(0);
  if (response.ContentLength !== undefined && response.ContentLength > maxImageBytes) {
    body.destroy?.();
    throw tooLarge(where, response.ContentLength, maxImageBytes);
  }
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const part of body) {
    length += part.length;
    if (length > maxImageBytes) {
      body.destroy?.();
      throw tooLarge(where, length, maxImageBytes);
    }
    parts.push(part);
  }
  return Buffer.concat(parts);
}
