/**
 * Where does sharp preprocessing saturate on a many-core host? Runs P processes, each with N images in flight
 * (JPEGs held in memory), for `decodeCrop` alone and for the full `preprocessInto` (crop + normalise), and
 * prints images/s summed over processes.
 *   node bench/gpu/preprocess-scaling.ts --images DIR [--out FILE.json] [--seconds S]
 * A child is the same file with --child.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
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
  },
});
if (values.images === undefined) throw new Error('--images DIR is needed');

async function child(): Promise<void> {
  applySharpSettings();
  const card = values.card !== undefined ? await readModelCard(values.card) : undefined;
  if (card === undefined) throw new Error('--card is needed in a child');
  const preprocessor = createPreprocessor(card, { maxInputPixels: 100_000_000 });
  const names = (await readdir(values.images!)).filter((n) => /\.jpe?g$/i.test(n)).sort();
  const images = await Promise.all(names.map((n) => readFile(path.join(values.images!, n))));
  const inFlight = Number(values.inflight);
  const target = new Float32Array(preprocessor.floatsPerImage * inFlight);
  const seconds = Number(values.seconds);
  let done = 0;
  let next = 0;
  const deadline = performance.now() + seconds * 1000 + 1000;
  const startAt = performance.now() + 1000; // the first second warms up and is not counted
  const lane = async (slot: number): Promise<void> => {
    while (performance.now() < deadline) {
      const bytes = images[next++ % images.length]!;
      if (values.mode === 'crop') await preprocessor.decodeCrop(bytes);
      else await preprocessor.preprocessInto(bytes, target, slot * preprocessor.floatsPerImage);
      if (performance.now() >= startAt) done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, (_, slot) => lane(slot)));
  process.stdout.write(JSON.stringify({ images: done, seconds }) + '\n');
}

async function runConfig(cardPath: string, processes: number, inFlight: number, mode: string): Promise<number> {
  const outputs = await Promise.all(
    Array.from({ length: processes }, () =>
      new Promise<string>((resolve, reject) => {
        const threads = Math.max(4, inFlight + 2);
        const proc = spawn(process.execPath, [import.meta.filename, '--child', '--images', values.images!, '--card', cardPath, '--inflight', String(inFlight), '--mode', mode, '--seconds', values.seconds!], {
          env: { ...process.env, UV_THREADPOOL_SIZE: String(threads) },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let text = '';
        proc.stdout.on('data', (d: Buffer) => (text += d.toString()));
        proc.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`child exited ${code}`))));
      }),
    ),
  );
  return outputs.reduce((sum, text) => {
    const r = JSON.parse(text) as { images: number; seconds: number };
    return sum + r.images / r.seconds;
  }, 0);
}

if (values.child) {
  await child();
} else {
  const cardPath = path.resolve(values.out === undefined ? '/tmp' : path.dirname(values.out), 'scaling-card.json');
  const card = buildModelCard({
    name: 'probe', file: 'probe.onnx', sha256: '0'.repeat(64), style: 'keras', inputName: 'input', outputName: 'probabilities',
    outputKind: 'probabilities', labels: [{ index: 0, wnid: 'a', label: 'a' }, { index: 1, wnid: 'b', label: 'b' }], source: {},
  });
  await writeFile(cardPath, JSON.stringify(card));
  const configs: [number, number, string][] = values.quick
    ? [[1, 2, 'crop'], [2, 1, 'full']]
    : [[1, 16, 'crop'], [1, 16, 'full'], [1, 32, 'full'], [2, 8, 'full'], [4, 4, 'full'], [4, 8, 'full'], [8, 2, 'full'], [8, 4, 'full'], [16, 2, 'full']];
  const rows = [];
  for (const [processes, inFlight, mode] of configs) {
    const ips = await runConfig(cardPath, processes, inFlight, mode);
    rows.push({ processes, inFlight, mode, imagesPerSecond: Math.round(ips) });
    console.log(`preprocess scaling: ${processes} process(es) x ${inFlight} in flight, ${mode}: ${Math.round(ips)} images/s`);
  }
  if (values.out !== undefined) await writeFile(values.out, JSON.stringify({ cpus: (await import('node:os')).availableParallelism(), rows }, null, 2));
}
