import type { Preprocessor } from '@labelq/worker/preprocess/preprocessor';

/** Preprocesses `count` images (cycling through `images`, all in memory) into slots of `target`, `inFlight` at a time. */
export async function preprocessMany(
  preprocessor: Preprocessor,
  images: readonly Buffer[],
  firstImage: number,
  count: number,
  target: Float32Array,
  inFlight: number,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const slot = next++;
      const bytes = images[(firstImage + slot) % images.length] as Buffer;
      await preprocessor.preprocessInto(bytes, target, (slot % (target.length / preprocessor.floatsPerImage)) * preprocessor.floatsPerImage);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
}

export interface PreprocessThroughput {
  inFlight: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
}

/** Images per second of decode + resize + crop + normalise, images held in memory (no I/O). */
export async function measurePreprocessThroughput(
  preprocessor: Preprocessor,
  images: readonly Buffer[],
  inFlight: number,
  total: number,
): Promise<PreprocessThroughput> {
  const target = new Float32Array(preprocessor.floatsPerImage * Math.max(inFlight, 1) * 2);
  await preprocessMany(preprocessor, images, 0, Math.min(images.length, total), target, inFlight); // warm-up
  const start = performance.now();
  await preprocessMany(preprocessor, images, 0, total, target, inFlight);
  const seconds = (performance.now() - start) / 1000;
  return { inFlight, images: total, seconds: Math.round(seconds * 1000) / 1000, imagesPerSecond: Math.round((total / seconds) * 10) / 10 };
}

export interface PipelineThroughput {
  batch: number;
  batches: number;
  inFlight: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  /** Time the loop waited for preprocessing to finish a batch, and inside session.run. */
  waitPreprocessSeconds: number;
  inferenceSeconds: number;
}

/**
 * In-process end to end (no Redis, no store): in-memory JPEG bytes → preprocess (`inFlight` at a time) →
 * session.run per batch, with the next batch preprocessed while the current one runs (two buffers).
 */
export async function measurePipeline(
  preprocessor: Preprocessor,
  images: readonly Buffer[],
  runBatch: (input: Float32Array) => Promise<void>,
  options: { batch: number; batches: number; inFlight: number },
): Promise<PipelineThroughput> {
  const { batch, batches, inFlight } = options;
  const buffers = [new Float32Array(preprocessor.floatsPerImage * batch), new Float32Array(preprocessor.floatsPerImage * batch)];
  let waitPreprocessMs = 0;
  let inferenceMs = 0;
  const start = performance.now();
  let pending = preprocessMany(preprocessor, images, 0, batch, buffers[0] as Float32Array, inFlight);
  for (let b = 0; b < batches; b++) {
    const waitStart = performance.now();
    await pending;
    waitPreprocessMs += performance.now() - waitStart;
    const current = buffers[b % 2] as Float32Array;
    if (b + 1 < batches) pending = preprocessMany(preprocessor, images, (b + 1) * batch, batch, buffers[(b + 1) % 2] as Float32Array, inFlight);
    const runStart = performance.now();
    await runBatch(current);
    inferenceMs += performance.now() - runStart;
  }
  const seconds = (performance.now() - start) / 1000;
  const images_ = batch * batches;
  return {
    batch,
    batches,
    inFlight,
    images: images_,
    seconds: Math.round(seconds * 1000) / 1000,
    imagesPerSecond: Math.round((images_ / seconds) * 10) / 10,
    waitPreprocessSeconds: Math.round(waitPreprocessMs) / 1000,
    inferenceSeconds: Math.round(inferenceMs) / 1000,
  };
}
