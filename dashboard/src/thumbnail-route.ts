import { Router } from 'express';
import { isErrorRecord, type ResultRecord } from '@labelq/shared/record';
import { parseItemUri } from '@labelq/shared/uri';
import type { DashboardContext } from './dashboard-context.ts';
import { readImageBytes, ThumbnailError } from './image-bytes.ts';
import { imageMediaType } from './image-type.ts';
import { readRecordObject } from './record-sample.ts';

/** Parsed record objects kept for thumbnail requests (a page asks for many items of the same few chunks). */
const cachedObjects = 32;
const cacheTtlMs = 10_000;

/**
 * Where the page gets a prediction's image: the dashboard's own route for file:// and s3:// items, the URI itself for
 * http(s) (the browser fetches it).
 */
export function thumbnailPath(run: string, at: { chunk: number; item: number; uri: string }): string {
  if (/^https?:\/\//i.test(at.uri)) return at.uri;
  return `runs/${encodeURIComponent(run)}/images/${at.chunk}/${at.item}`; // relative: works behind a proxy path
}

/**
 * GET /runs/:run/images/:chunk/:item — the image of the item-th record of a chunk's record object. The route takes
 * no URI: it serves only images named by a run's label records, only file:// and s3:// ones, at most
 * `maxImageBytes`, and only bytes that are an image a browser shows (JPEG, PNG, GIF, WebP, AVIF, BMP).
 */
export function thumbnailRoute(context: DashboardContext): Router {
  const router = Router();
  const cache = new Map<string, { atMs: number; records: Promise<ResultRecord[]> }>();

  const recordsOf = (run: string, out: string, chunk: number): Promise<ResultRecord[]> => {
    const key = `${run}\n${chunk}`;
    const cached = cache.get(key);
    if (cached !== undefined && Date.now() - cached.atMs < cacheTtlMs) return cached.records;
    const records = readRecordObject(context.storeFor(out), run, chunk);
    records.catch(() => cache.delete(key));
    cache.delete(key);
    cache.set(key, { atMs: Date.now(), records });
    while (cache.size > cachedObjects) cache.delete(cache.keys().next().value!);
    return records;
  };

  router.get('/runs/:run/images/:chunk/:item', async (request, response) => {
    const { run } = request.params;
    const chunk = Number(request.params.chunk);
    const item = Number(request.params.item);
    if (!Number.isSafeInteger(chunk) || chunk < 0 || !Number.isSafeInteger(item) || item < 0) {
      throw new ThumbnailError(400, 'chunk and item are whole numbers.');
    }
    const meta = await context.registry.requireRun(run);
    const record = (await recordsOf(run, meta.out, chunk))[item];
    if (record === undefined) throw new ThumbnailError(404, `Run "${run}" has no record ${item} in chunk ${chunk}.`);
    if (isErrorRecord(record)) throw new ThumbnailError(404, `Record ${item} of chunk ${chunk} is an error record: there is no image to show.`);
    let uri;
    try {
      uri = parseItemUri(record.uri);
    } catch {
      throw new ThumbnailError(404, `Record ${item} of chunk ${chunk} names a URI the dashboard cannot read.`);
    }
    const bytes = await readImageBytes(uri, context.s3, context.maxImageBytes);
    const mediaType = imageMediaType(bytes);
    if (mediaType === undefined) throw new ThumbnailError(415, `The bytes of record ${item} of chunk ${chunk} are not an image a browser shows.`);
    response
      .status(200)
      .set({
        'content-type': mediaType,
        'cache-control': 'private, max-age=300',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'",
      })
      .end(bytes);
  });

  return router;
}
