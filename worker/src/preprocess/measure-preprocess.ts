/**
 * Measures preprocessing throughput on the 500 imagenet-sample JPEGs, preloaded in memory:
 *   node worker/src/preprocess/measure-preprocess.ts [--rounds N]
 * For each sharp.concurrency (libvips threads per image) × images in flight × fastShrinkOnLoad, it runs
 * preprocessInto over all images into a reused batch buffer and prints images/s (best of N rounds).
 * It also times the header read (metadata) that refuses decompression bombs, against the whole pipeline.
 * UV_THREADPOOL_SIZE (default 4) caps how many images libuv decodes at once; set it in the environment.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createPreprocessor, type Preprocessor } from './preprocessor.ts';
import { sharedDataDir } from '../../../test/support/shared-data.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);

const card = {
  input: { name: 'input', layout: 'NCHW' as const, height: 224, width: 224, channels: 3 as const },
  preprocess: { colorOrder: 'BGR' as const, scale: 1, mean: [103.939, 116.779, 123.68] as [number, number, number], std: [1, 1, 1] as [number, number, number], resizeShorterSide: 256, cropSize: 224 },
};

const sampleDir = path.join(sharedDataDir(), 'imagenet-sample');
const allImages = readdirSync(sampleDir)
  .filter((name) => name.endsWith('.JPEG'))
  .sort()
  .map((name) => readFileSync(path.join(sampleDir, name)));
let images: Buffer[] = allImages;
const megabytes = images.reduce((sum, b) => sum + b.length, 0) / 1e6;

interface Timing {
  imagesPerSecond: number;
  /** Process CPU time (all threads) per image, in ms: what an image costs, little affected by other load. */
  cpuMsPerImage: number;
}

async function run(preprocessor: Preprocessor, inFlight: number): Promise<Timing> {
  // One batch-sized buffer per lane, reused: what the worker does.
  const buffers = Array.from({ length: inFlight }, () => new Float32Array(preprocessor.floatsPerImage));
  let next = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    buffers.map(async (buffer) => {
      while (next < images.length) {
        const bytes = images[next++]!;
        await preprocessor.preprocessInto(bytes, buffer, 0);
      }
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  return {
    imagesPerSecond: images.length / ((performance.now() - started) / 1000),
    cpuMsPerImage: (cpu.user + cpu.system) / 1000 / images.length,
  };
}

console.log(
  `${images.length} JPEGs (${megabytes.toFixed(1)} MB) from ${sampleDir}; ${availableParallelism()} cores; ` +
    `UV_THREADPOOL_SIZE=${process.env['UV_THREADPOOL_SIZE'] ?? '4 (default)'}; sharp.concurrency() default ${sharp.concurrency()}; best of ${rounds}`,
);
const defaultConcurrency = sharp.concurrency();
interface Setting { cache: boolean; threads: number; fastShrinkOnLoad: boolean; inFlight: number }
const settingsToTry: Setting[] = [];
for (const threads of [...new Set([1, availableParallelism()])]) {
  for (const fastShrinkOnLoad of [false, true]) {
    for (const inFlight of [1, 2, 4]) settingsToTry.push({ cache: false, threads, fastShrinkOnLoad, inFlight });
  }
}
for (const inFlight of [1, 2, 4]) settingsToTry.push({ cache: true, threads: 1, fastShrinkOnLoad: false, inFlight });
// Rounds interleave the settings, so load from other processes spreads over all of them; the best round counts.
const bestPerSetting = new Map<Setting, Timing>();
await run(createPreprocessor(card, { maxInputPixels: 100_000_000 }), 2); // warm-up
for (let round = 0; round < rounds; round++) {
  for (const setting of settingsToTry) {
    sharp.cache(setting.cache);
    sharp.concurrency(setting.threads);
    const preprocessor = createPreprocessor(card, { maxInputPixels: 100_000_000, fastShrinkOnLoad: setting.fastShrinkOnLoad });
    const timing = await run(preprocessor, setting.inFlight);
    const previous = bestPerSetting.get(setting);
    bestPerSetting.set(setting, {
      imagesPerSecond: Math.max(previous?.imagesPerSecond ?? 0, timing.imagesPerSecond),
      cpuMsPerImage: Math.min(previous?.cpuMsPerImage ?? Infinity, timing.cpuMsPerImage),
    });
  }
}
const rows: Record<string, string | number>[] = [];
for (const [setting, timing] of bestPerSetting) {
  const key = `cache ${setting.cache}, sharp.concurrency ${setting.threads}, fastShrinkOnLoad ${setting.fastShrinkOnLoad}`;
  let row = rows.find((r) => r['setting'] === key);
  if (row === undefined) rows.push((row = { setting: key }));
  row[`${setting.inFlight} in flight: img/s`] = Math.round(timing.imagesPerSecond);
  row[`${setting.inFlight} in flight: CPU ms/img`] = Number(timing.cpuMsPerImage.toFixed(1));
}
console.table(rows);

// fastShrinkOnLoad only acts when the JPEG is reduced by 2 or more: time it on those images alone.
const large: Buffer[] = [];
for (const bytes of allImages) {
  const { width, height } = await sharp(bytes).metadata();
  if (Math.min(width, height) >= 2 * card.preprocess.resizeShorterSide) large.push(bytes);
}
images = large;
sharp.cache(false);
sharp.concurrency(1);
const largeRows: Record<string, string | number>[] = [];
for (const fastShrinkOnLoad of [false, true]) {
  const preprocessor = createPreprocessor(card, { maxInputPixels: 100_000_000, fastShrinkOnLoad });
  let bestTiming: Timing = { imagesPerSecond: 0, cpuMsPerImage: Infinity };
  for (let round = 0; round < rounds; round++) {
    const timing = await run(preprocessor, 1);
    bestTiming = { imagesPerSecond: Math.max(bestTiming.imagesPerSecond, timing.imagesPerSecond), cpuMsPerImage: Math.min(bestTiming.cpuMsPerImage, timing.cpuMsPerImage) };
  }
  largeRows.push({ images: `${large.length} with shorter side >= ${2 * card.preprocess.resizeShorterSide}`, fastShrinkOnLoad: String(fastShrinkOnLoad), '1 in flight: img/s': Math.round(bestTiming.imagesPerSecond), 'CPU ms/img': Number(bestTiming.cpuMsPerImage.toFixed(1)) });
}
console.table(largeRows);
images = allImages;
sharp.concurrency(defaultConcurrency);
sharp.cache(false);

// Header read (what refuses a bomb before decoding) against the whole pipeline, one image at a time.
let started = performance.now();
for (const bytes of images) await sharp(bytes).metadata();
const metadataMs = (performance.now() - started) / images.length;
const preprocessor = createPreprocessor(card, { maxInputPixels: 100_000_000 });
const target = new Float32Array(preprocessor.floatsPerImage);
started = performance.now();
for (const bytes of images) await preprocessor.preprocessInto(bytes, target, 0);
const wholeMs = (performance.now() - started) / images.length;

// Refusing a 100000x100000 bomb: our metadata-first check against sharp's own limitInputPixels in the pipeline.
const { pngDeclaringHugeSize } = await import('../../../test/fixtures/make-bad-images.ts');
const bomb = await pngDeclaringHugeSize();
const tries = 200;
started = performance.now();
for (let i = 0; i < tries; i++) await preprocessor.decodeCrop(bomb).catch(() => undefined);
const refuseByMetadataMs = (performance.now() - started) / tries;
started = performance.now();
for (let i = 0; i < tries; i++) {
  await sharp(bomb, { limitInputPixels: 100_000_000 }).resize(256).raw().toBuffer().catch(() => undefined);
}
const refuseByLimitMs = (performance.now() - started) / tries;
console.table([
  { what: 'metadata() of one sample JPEG (header only)', ms: metadataMs.toFixed(3) },
  { what: 'preprocessInto one sample JPEG (metadata + decode + resize + crop + floats)', ms: wholeMs.toFixed(3) },
  { what: 'refuse a 100000x100000 PNG: metadata() then compare (ours)', ms: refuseByMetadataMs.toFixed(3) },
  { what: 'refuse the same with sharp limitInputPixels in the pipeline', ms: refuseByLimitMs.toFixed(3) },
]);
