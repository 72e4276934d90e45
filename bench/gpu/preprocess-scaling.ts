/**
 * Where does sharp preprocessing saturate on a many-core host? Runs P processes, each with N images in flight
 * (JPEGs held in memory), for `decodeCrop` alone and for the full `preprocessInto` (crop + normalise), and
 * prints images/s summed over processes.
 *   node bench/gpu/preprocess-scaling.ts --images DIR [--out FILE.json] [--seconds S]
 * A child is the same file with --child.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readModelCard } from '@labelq/shared/model-card';
import { createPreprocessor } from '@labelq/worker/preprocess/preprocessor';
import { applySharpSettings } from '@labelq/worker/preprocess/sharp-settings';
import { buildModelCard } from '@labelq/worker/model/card-presets';

const { values } = parseArgs({
  options: {
    images: { type: 'string' },
    out: { type: 'string' },
    seconds: { type: 'string', default: '4' },
    child: { type: 'boolean', default: false },
    inflight: { type: 'string', default: '8' },
    mode: { type: 'string', default: 'full' },
    card: { type: 'string' },
    quick: { type: 'boolean', default: false },
    threads: { type: 'string', default: '1' },
  },
});
if (values.images === undefined) throw new Error('--images DIR is needed');

/** One decoding lane set: N images in flight in this thread; returns images/s after a 1 s warm-up. */
async function decodeLanes(cardPath: string, imagesDir: string, inFlight: number, mode: string, seconds: number): Promise<number> {
  applySharpSettings();
  const card = await readModelCard(cardPath);
  const preprocessor = createPreprocessor(card, { maxInputPixels: 100_000_000 });
  const names = (await readdir(imagesDir)).filter((n) => /\.jpe?g$/i.test(n)).sort();
  const images = await Promise.all(names.map((n) => readFile(path.join(imagesDir, n))));
  const target = new Float32Array(preprocessor.floatsPerImage * inFlight);
  let done = 0;
  let next = 0;
  const deadline = performance.now() + seconds * 1000 + 1000;
  const startAt = performance.now() + 1000; // the first second warms up and is not counted
  const lane = async (slot: number): Promise<void> => {
    while (performance.now() < deadline) {
      const bytes = images[next++ % images.length]!;
      if (mode === 'crop') await preprocessor.decodeCrop(bytes);
      else await preprocessor.preprocessInto(bytes, target, slot * preprocessor.floatsPerImage);
      if (performance.now() >= startAt) done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, (_, slot) => lane(slot)));
  return done / seconds;
}

interface LaneArgs {
  cardPath: string;
  imagesDir: string;
  inFlight: number;
  mode: string;
  seconds: number;
}

/** A child process: `threads` worker threads (or the main thread alone), each with its lanes; prints images/s. */
async function child(): Promise<void> {
  if (values.card === undefined) throw new Error('--card is needed in a child');
  const args: LaneArgs = { cardPath: values.card, imagesDir: values.images!, inFlight: Number(values.inflight), mode: values.mode!, seconds: Number(values.seconds) };
  const threads = Number(values.threads);
  let imagesPerSecond: number;
  if (threads <= 1) {
    imagesPerSecond = await decodeLanes(args.cardPath, args.imagesDir, args.inFlight, args.mode, args.seconds);
  } else {
    const rates = await Promise.all(
      Array.from({ length: threads }, () =>
        new Promise<number>((resolve, reject) => {
          const thread = new Worker(new URL(import.meta.url), { workerData: args, argv: ['--images', args.imagesDir] });
          thread.once('message', (rate: number) => {
            resolve(rate);
            void thread.terminate();
          });
          thread.once('error', reject);
        }),
      ),
    );
    imagesPerSecond = rates.reduce((sum, rate) => sum + rate, 0);
  }
  process.stdout.write(JSON.stringify({ imagesPerSecond }) + '\n');
}

async function runConfig(cardPath: string, processes: number, inFlight: number, mode: string, threads: number): Promise<number> {
  const outputs = await Promise.all(
    Array.from({ length: processes }, () =>
      new Promise<string>((resolve, reject) => {
        const poolSize = Math.max(4, inFlight * threads + 2);
        const proc = spawn(process.execPath, [import.meta.filename, '--child', '--images', values.images!, '--card', cardPath, '--inflight', String(inFlight), '--mode', mode, '--seconds', values.seconds!, '--threads', String(threads)], {
          env: { ...process.env, UV_THREADPOOL_SIZE: String(poolSize) },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let text = '';
        proc.stdout.on('data', (d: Buffer) => (text += d.toString()));
        proc.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`child exited ${code}`))));
      }),
    ),
  );
  return outputs.reduce((sum, text) => {
    return sum + (JSON.parse(text) as { imagesPerSecond: number }).imagesPerSecond;
  }, 0);
}

if (!isMainThread) {
  const args = workerData as LaneArgs;
  parentPort!.postMessage(await decodeLanes(args.cardPath, args.imagesDir, args.inFlight, args.mode, args.seconds));
} else if (values.child) {
  await child();
} else {
  const cardPath = path.resolve(values.out === undefined ? '/tmp' : path.dirname(values.out), 'scaling-card.json');
  const card = buildModelCard({
    name: 'probe', file: 'probe.onnx', sha256: '0'.repeat(64), style: 'keras', inputName: 'input', outputName: 'probabilities',
    outputKind: 'probabilities', labels: [{ index: 0, wnid: 'a', label: 'a' }, { index: 1, wnid: 'b', label: 'b' }], source: {},
  });
  await writeFile(cardPath, JSON.stringify(card));
  // [processes, images in flight per lane set, mode, worker threads per process (1 = the main thread)]
  const configs: [number, number, string, number][] = values.quick
    ? [[1, 2, 'full', 1], [2, 1, 'full', 1], [1, 1, 'full', 2]]
    : process.env['LABELQ_SCALING_SET'] === 'threads'
      ? [[1, 16, 'full', 1], [1, 2, 'full', 4], [1, 2, 'full', 8], [1, 2, 'full', 16], [2, 2, 'full', 8], [16, 2, 'full', 1]]
      : [[1, 16, 'crop', 1], [1, 16, 'full', 1], [1, 32, 'full', 1], [2, 8, 'full', 1], [4, 4, 'full', 1], [4, 8, 'full', 1], [8, 2, 'full', 1], [8, 4, 'full', 1], [16, 2, 'full', 1]];
  const rows = [];
  for (const [processes, inFlight, mode, threads] of configs) {
    const ips = await runConfig(cardPath, processes, inFlight, mode, threads);
    rows.push({ processes, threads, inFlight, mode, imagesPerSecond: Math.round(ips) });
    console.log(`preprocess scaling: ${processes} process(es) x ${threads} thread(s) x ${inFlight} in flight, ${mode}: ${Math.round(ips)} images/s`);
  }
  if (values.out !== undefined) await writeFile(values.out, JSON.stringify({ cpus: (await import('node:os')).availableParallelism(), rows }, null, 2));
}
