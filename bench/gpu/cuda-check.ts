/**
 * The GPU check: labelq's own worker code (openSession, the preprocessor) on ONNX Runtime's CUDA provider.
 *
 *   node bench/gpu/cuda-check.ts --images DIR --work DIR --out FILE.json [--cpu-only] [--batches 1,16,64,256]
 *
 * 1. builds the random ResNet50 (seed 1, torchvision style) with worker/src/model/random-resnet50.ts;
 * 2. opens it with device 'cuda' and device 'cpu', runs the same seeded random batch of 8 on both and compares
 *    (max abs diff ≤ 1e-3 passes; TF32 may be on in the CUDA provider, so relative L2 and top-1 agreement are
 *    reported too), and runs CUDA twice to see whether it is deterministic;
 * 3. CPU images/s at batch 16 (reference), then CUDA inference images/s per batch size: fixed shapes, warm-up
 *    runs first (the first run of a shape includes cuDNN's algorithm search), timed runs, median ms per batch.
 *    session.run includes the host→device copy of the input and the device→host copy of the output;
 * 4. preprocessing images/s (sharp, JPEGs held in memory, N in flight, UV_THREADPOOL_SIZE threads);
 * 5. in-process end to end: preprocess batch k+1 while batch k runs on the device.
 * --cpu-only (local rehearsal without a GPU): the 'cuda' session is replaced by a second CPU session, sizes
 * shrink, and opening with 'cuda' is only probed (its error is recorded: here it should name a missing CUDA
 * library, which proves the provider files are where ONNX Runtime looks).
 * Results are written to --out after every section, so a crash leaves what was measured.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { ModelCard } from '@labelq/shared/model-card';
import { openSession, type DeviceRequest } from '@labelq/worker/inference/session';
import { buildRandomResnet50 } from '@labelq/worker/model/random-resnet50';
import { SeededRandom } from '@labelq/worker/model/seeded-random';
import { createPreprocessor } from '@labelq/worker/preprocess/preprocessor';
import { compareOutputs } from './output-comparison.ts';
import { softmaxInPlace } from '@labelq/worker/inference/top-k';
import { measurePipeline, measurePreprocessThroughput } from './preprocess-bench.ts';
import { imagesPerSecond, timeRuns } from './timing.ts';

const { values } = parseArgs({
  options: {
    images: { type: 'string' },
    work: { type: 'string', default: '/tmp/labelq-gpu/work' },
    out: { type: 'string', default: 'cuda-check.json' },
    'cpu-only': { type: 'boolean', default: false },
    batches: { type: 'string' },
    'device-id': { type: 'string', default: '0' },
  },
});
if (!values.images) {
  console.error('usage: node bench/gpu/cuda-check.ts --images DIR [--work DIR] [--out FILE.json] [--cpu-only] [--batches 1,16,64,256]');
  process.exit(2);
}
const cpuOnly = values['cpu-only'];
const imagesDir = values.images;
const outPath = values.out;
const cpus = os.availableParallelism();
const batchSizes = (values.batches ?? (cpuOnly ? '1,4' : '1,16,64,256')).split(',').map(Number);
const plan = cpuOnly
  ? { warmup: 1, minIterations: 2, maxIterations: 2, minTotalMs: 0 }
  : { warmup: 3, minIterations: 10, maxIterations: 200, minTotalMs: 2000 };
const accelDevice: DeviceRequest = cpuOnly ? 'cpu' : 'cuda';
const compareBatch = 8;
const poolImages = cpuOnly ? 8 : 64;
const floatsPerImage = 3 * 224 * 224;

const results: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  mode: cpuOnly ? 'cpu-only rehearsal' : 'cuda',
  host: { cpus, uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '(default 4)', node: process.version, onnxruntimeNode: ort.env.versions.common, sharp: sharp.versions, sharpConcurrency: sharp.concurrency() },
};
async function save(): Promise<void> {
  await writeFile(outPath, `${JSON.stringify(results, null, 2)}\n`);
}
function log(message: string): void {
  console.log(`[cuda-check ${((performance.now()) / 1000).toFixed(1)}s] ${message}`);
}
function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
  return `${error.name}: ${error.message}${cause}`;
}
async function section<T>(name: string, body: () => Promise<T>): Promise<T | undefined> {
  const start = performance.now();
  try {
    const value = await body();
    log(`${name}: ${((performance.now() - start) / 1000).toFixed(2)} s`);
    return value;
  } catch (error) {
    log(`${name} FAILED: ${errorText(error)}`);
    results[`${name}Error`] = errorText(error);
    return undefined;
  } finally {
    await save();
  }
}

/** `count` images of seeded N(0,1) values (like normalised pixels), cycled from a pool of distinct images. */
function seededBatch(pool: Float32Array, count: number): Float32Array {
  const batch = new Float32Array(count * floatsPerImage);
  const poolCount = pool.length / floatsPerImage;
  for (let i = 0; i < count; i++) batch.set(pool.subarray((i % poolCount) * floatsPerImage, ((i % poolCount) + 1) * floatsPerImage), i * floatsPerImage);
  return batch;
}

await mkdir(values.work, { recursive: true });
await mkdir(path.dirname(path.resolve(outPath)), { recursive: true });

const model = await section('buildModel', async () => {
  const built = await buildRandomResnet50({ seed: 1, outDir: path.join(values.work, 'model'), style: 'torchvision' });
  results.model = { onnxPath: built.onnxPath, sha256: built.sha256, input: built.card.input, output: built.card.output };
  return built;
});
if (model === undefined) process.exit(1);
const card: ModelCard = model.card;
const inputName = card.input.name;
const outputName = card.output.name;

if (cpuOnly) {
  await section('cudaProbe', async () => {
    try {
      await openSession(model.onnxPath, { device: 'cuda', cudaDeviceId: 0, intraOpThreads: 1, interOpThreads: 1 });
      results.cudaProbe = { opened: true };
    } catch (error) {
      results.cudaProbe = { opened: false, error: errorText(error) };
      log(`cuda probe (expected to fail without a GPU): ${errorText(error)}`);
    }
  });
}

const sessionSettings = (device: DeviceRequest, threads: number) => ({ device, cudaDeviceId: Number(values['device-id']), intraOpThreads: threads, interOpThreads: 1 });
const opened = await section('openSessions', async () => {
  let start = performance.now();
  const cpu = await openSession(model.onnxPath, sessionSettings('cpu', cpus));
  const cpuOpenS = (performance.now() - start) / 1000;
  start = performance.now();
  const accel = await openSession(model.onnxPath, sessionSettings(accelDevice, cpuOnly ? cpus : 2));
  const accelOpenS = (performance.now() - start) / 1000;
  results.sessions = { cpu: { deviceInUse: cpu.deviceInUse, openSeconds: cpuOpenS }, accelerated: { requested: accelDevice, deviceInUse: accel.deviceInUse, fallbackReason: accel.fallbackReason, openSeconds: accelOpenS } };
  log(`sessions: cpu opened in ${cpuOpenS.toFixed(2)} s; ${accelDevice} → ${accel.deviceInUse} in ${accelOpenS.toFixed(2)} s`);
  return { cpu: cpu.session, accel: accel.session };
});
if (opened === undefined) process.exit(1);
const { accel } = opened;
let cpuSession: ort.InferenceSession | undefined = opened.cpu;

const pool = new SeededRandom(20261127).normals(poolImages * floatsPerImage, 1);
const run = async (session: ort.InferenceSession, input: Float32Array, batch: number): Promise<Float32Array> => {
  const feeds = { [inputName]: new ort.Tensor('float32', input, [batch, 3, 224, 224]) };
  const output = (await session.run(feeds))[outputName];
  if (output === undefined) throw new Error(`the model has no output named ${outputName}`);
  return output.data as Float32Array;
};

await section('correctness', async () => {
  const input = seededBatch(pool, compareBatch);
  const reference = await run(cpuSession as ort.InferenceSession, input, compareBatch);
  const first = await run(accel, input, compareBatch);
  const second = await run(accel, input, compareBatch);
  const comparison = compareOutputs(first, reference, compareBatch);
  const repeat = compareOutputs(second, first, compareBatch);
  const pass = comparison.maxAbsDiff <= 1e-3 && comparison.nonFinite === 0;
  // TF32 (on by default in the CUDA provider's convolutions) lands near 3e-4 relative; logits reach about 10 here.
  const tf32Consistent = comparison.relativeL2 <= 3e-3 && comparison.top1Agreement === 1 && comparison.nonFinite === 0;
  // What a worker writes into records: the softmax of the logits (worker/src/inference/top-k.ts), row by row.
  const classes = reference.length / compareBatch;
  const probabilities = (logits: Float32Array): Float32Array => {
    const out = Float32Array.from(logits);
    for (let row = 0; row < compareBatch; row++) softmaxInPlace(out.subarray(row * classes, (row + 1) * classes));
    return out;
  };
  const probabilitiesVsCpu = compareOutputs(probabilities(first), probabilities(reference), compareBatch);
  const probabilitiesPass = probabilitiesVsCpu.maxAbsDiff <= 1e-3 && probabilitiesVsCpu.nonFinite === 0;
  results.correctness = {
    batch: compareBatch,
    acceleratedVsCpu: comparison,
    acceleratedRunToRun: repeat,
    toleranceMaxAbs: 1e-3,
    pass,
    toleranceRelativeL2: 3e-3,
    tf32Consistent,
    probabilitiesVsCpu,
    probabilitiesPass,
  };
  log(`${accelDevice} vs cpu after softmax (the p in records): max abs diff ${probabilitiesVsCpu.maxAbsDiff.toExponential(3)}, top-1 agreement ${probabilitiesVsCpu.top1Agreement}: ${probabilitiesPass ? 'PASS' : 'FAIL'} (<= 1e-3)`);
  log(`${accelDevice} vs cpu: max abs diff ${comparison.maxAbsDiff.toExponential(3)} (largest |output| ${comparison.maxAbsReference.toFixed(3)}), relative L2 ${comparison.relativeL2.toExponential(3)}, top-1 agreement ${comparison.top1Agreement}, run-to-run max diff ${repeat.maxAbsDiff.toExponential(3)}: max-abs ${pass ? 'PASS' : 'FAIL'}, relative (TF32) ${tf32Consistent ? 'PASS' : 'FAIL'}`);
});

await section('cpuReference', async () => {
  const batch = cpuOnly ? 4 : 16;
  const input = seededBatch(pool, batch);
  const session = cpuSession as ort.InferenceSession;
  const timing = await timeRuns(async () => void (await run(session, input, batch)), { warmup: 1, minIterations: cpuOnly ? 1 : 5, maxIterations: cpuOnly ? 1 : 5, minTotalMs: 0 });
  results.cpuReference = { batch, intraOpThreads: cpus, ...timing, imagesPerSecond: imagesPerSecond(batch, timing.medianMs) };
  log(`cpu batch ${batch}: ${timing.medianMs.toFixed(1)} ms/batch, ${imagesPerSecond(batch, timing.medianMs)} images/s`);
  await session.release();
  cpuSession = undefined;
});

const inference: Record<string, unknown>[] = [];
results.inference = inference;
for (const batch of batchSizes) {
  await section(`inferenceBatch${batch}`, async () => {
    const input = seededBatch(pool, batch);
    const timing = await timeRuns(async () => void (await run(accel, input, batch)), plan);
    const row = { device: accelDevice, batch, ...timing, imagesPerSecond: imagesPerSecond(batch, timing.medianMs) };
    inference.push(row);
    log(`${accelDevice} batch ${batch}: median ${timing.medianMs.toFixed(2)} ms (p10 ${timing.p10Ms.toFixed(2)}, p90 ${timing.p90Ms.toFixed(2)}, ${timing.iterations} runs; warm-up ${timing.warmupMs.map((v) => v.toFixed(0)).join('/')} ms) → ${row.imagesPerSecond} images/s`);
  });
}

const images = await section('loadImages', async () => {
  const names = (await readdir(imagesDir)).filter((n) => /\.jpe?g$/i.test(n)).sort();
  if (names.length === 0) throw new Error(`no JPEG files in ${imagesDir}`);
  const buffers = await Promise.all(names.map((n) => readFile(path.join(imagesDir, n))));
  results.images = { dir: imagesDir, count: buffers.length, bytes: buffers.reduce((a, b) => a + b.length, 0) };
  return buffers;
});

if (images !== undefined) {
  const preprocessor = createPreprocessor(card, { maxInputPixels: 50_000_000 });
  const preprocessRows: unknown[] = [];
  results.preprocess = preprocessRows;
  for (const inFlight of cpuOnly ? [2] : [16, 32]) {
    await section(`preprocessInFlight${inFlight}`, async () => {
      const row = await measurePreprocessThroughput(preprocessor, images, inFlight, cpuOnly ? 32 : 2048);
      preprocessRows.push(row);
      log(`preprocess, ${inFlight} in flight: ${row.imagesPerSecond} images/s (${row.images} images in ${row.seconds} s)`);
    });
  }
  await section('pipeline', async () => {
    const batch = cpuOnly ? 4 : 64;
    const options = { batch, batches: cpuOnly ? 2 : 32, inFlight: cpuOnly ? 2 : 16 };
    await run(accel, seededBatch(pool, batch), batch); // the shape is warm already on CUDA for 64; cheap otherwise
    const row = await measurePipeline(preprocessor, images, async (input) => void (await run(accel, input, batch)), options);
    results.pipeline = { device: accelDevice, ...row };
    log(`pipeline (preprocess ∥ ${accelDevice} inference), batch ${batch}: ${row.imagesPerSecond} images/s; waited ${row.waitPreprocessSeconds} s for preprocessing, ${row.inferenceSeconds} s in session.run`);
  });
}

await accel.release();
results.finishedAt = new Date().toISOString();
await save();
log(`results in ${outPath}`);
const failed = Object.keys(results).filter((k) => k.endsWith('Error'));
const verdict = results.correctness as { pass?: boolean; tf32Consistent?: boolean } | undefined;
if (failed.length > 0 || !(verdict?.pass === true || verdict?.tf32Consistent === true)) process.exit(1);
