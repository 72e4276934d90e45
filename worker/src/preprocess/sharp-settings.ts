import sharp from 'sharp';

/**
 * Process-wide sharp settings for the worker (call once at start-up, before decoding):
 * - libvips threads per image = 1: the worker keeps several images in flight (decodeConcurrency), one per
 *   libuv thread, and an image costs the same CPU either way (about 7 ms for a 500x375 JPEG here); more threads
 *   per image only help when fewer images than cores are in flight. It is also sharp's own default on glibc.
 * - the libvips operation cache off: every input is a different image, so the cache only holds memory.
 */
export function applySharpSettings(options: { threadsPerImage?: number } = {}): void {
  sharp.cache(false);
  sharp.concurrency(options.threadsPerImage ?? 1);
}

/**
 * libuv's threadpool (UV_THREADPOOL_SIZE, default 4, read once when the pool first starts) caps how many
 * images sharp decodes at once, and file reads and DNS lookups share it. Returns a sentence for the log when
 * it is smaller than `decodeConcurrency`, else undefined.
 */
export function threadpoolShortfall(decodeConcurrency: number, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const size = Number(env['UV_THREADPOOL_SIZE'] ?? 4);
  if (size >= decodeConcurrency) return undefined;
  return (
    `UV_THREADPOOL_SIZE is ${size}, fewer than the ${decodeConcurrency} images decoded at once (decodeConcurrency): ` +
    `only ${size} decode at a time. Start the process with UV_THREADPOOL_SIZE=${decodeConcurrency + 2} or more.`
  );
}
