import { join } from 'node:path';
import type { BenchServices } from '../lib/services.ts';
import { enqueue, startWorkers, writeManifest } from '../lib/labelq-processes.ts';
import { memoryMiBOf } from '../lib/proc-stats.ts';
import { progress } from '../lib/progress.ts';
import { distinctImageUris } from '../lib/sample-images.ts';

export interface SoakResult {
  minutes: number;
  batch: number;
  samples: { atS: number; rssMiB: number }[];
  peakRssMiB: number;
  /** Least-squares slope of RSS after the warm-up (the first fifth), in MiB per minute. */
  slopeMiBPerMinute: number;
  /** RSS at the end against RSS right after the warm-up, in percent. */
  changePercent: number;
  /** The fitted line's rise over the measured span, relative to its start, in percent. */
  fittedChangePercent: number;
}

/** One worker at batch 64 over the photographs, real inference, records to a local folder, RSS sampled throughout. */
export async function measureSoak(services: BenchServices, options: { minutes: number; device: string; paths: string[]; sampleEveryS: number }): Promise<SoakResult> {
  const queue = `soak-${Date.now().toString(36)}`;
  const manifest = join(services.workDir, `${queue}.txt`);
  // More than one worker can label in the time (about 30 images/s at most here): the backlog never runs dry.
  await writeManifest(manifest, await distinctImageUris(options.paths, Math.ceil(options.minutes * 60 * 60) + 640, join(services.workDir, 'images')));
  const env = { ...services.env, LABELQ_QUEUE: queue, LABELQ_DEVICE: options.device, LABELQ_BATCH_SIZE: '64' };
  progress(`soak: one worker at batch 64 for ${options.minutes} min`);
  const [worker] = await startWorkers(env, 1);
  if (worker === undefined) throw new Error('soak: no worker started');
  const samples: { atS: number; rssMiB: number }[] = [];
  let peakRssMiB = 0;
  try {
    await enqueue(env, manifest, { run: 'soak', chunk: 64, out: join(services.workDir, 'soak-out') });
    const began = performance.now();
    const durationMs = options.minutes * 60_000;
    while (performance.now() - began < durationMs) {
      await new Promise((wake) => setTimeout(wake, options.sampleEveryS * 1000));
      const memory = memoryMiBOf(worker.pid);
      if (memory === undefined) throw new Error(`soak: the worker exited: ${worker.output().slice(-2000)}`);
      const atS = Math.round((performance.now() - began) / 100) / 10;
      samples.push({ atS, rssMiB: Math.round(memory.rssMiB * 10) / 10 });
      peakRssMiB = Math.max(peakRssMiB, memory.peakRssMiB);
      if (samples.length % Math.max(1, Math.round(30 / options.sampleEveryS)) === 0) {
        progress(`soak: ${atS} s, RSS ${memory.rssMiB.toFixed(0)} MiB (peak ${memory.peakRssMiB.toFixed(0)} MiB)`);
      }
    }
  } finally {
    await worker.stop();
  }
  const settled = samples.slice(Math.floor(samples.length / 5));
  const slopePerS = slope(settled.map((s) => s.atS), settled.map((s) => s.rssMiB));
  const first = settled[0]?.rssMiB ?? Number.NaN;
  const last = settled.at(-1)?.rssMiB ?? Number.NaN;
  const spanS = (settled.at(-1)?.atS ?? 0) - (settled[0]?.atS ?? 0);
  const mean = settled.reduce((sum, s) => sum + s.rssMiB, 0) / Math.max(1, settled.length);
  const meanT = settled.reduce((sum, s) => sum + s.atS, 0) / Math.max(1, settled.length);
  const fittedStart = mean + slopePerS * ((settled[0]?.atS ?? 0) - meanT);
  return {
    minutes: options.minutes,
    batch: 64,
    samples,
    peakRssMiB: Math.round(peakRssMiB),
    slopeMiBPerMinute: Math.round(slopePerS * 60 * 100) / 100,
    changePercent: Math.round(((last - first) / first) * 1000) / 10,
    fittedChangePercent: Math.round(((slopePerS * spanS) / fittedStart) * 1000) / 10,
  };
}

function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
