/**
 * Resident memory of one ONNX Runtime session at a batch size, per memory option: what a worker's peak RSS at
 * batch 64 is made of. One child process per variant (RSS peaks are per process).
 *
 *   node bench/rss-probe.ts [--batch 64] [--runs 2]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { modelCardPathOf } from '@labelq/worker/default-model';
import { openSession } from '@labelq/worker/inference/session';
import { loadModel } from './sections/infer-only.ts';

const { values } = parseArgs({ options: { batch: { type: 'string', default: '64' }, runs: { type: 'string', default: '2' }, variant: { type: 'string' } } });
const variants: Record<string, { enableCpuMemArena: boolean; enableMemPattern: boolean }> = {
  'arena + pattern (default)': { enableCpuMemArena: true, enableMemPattern: true },
  'no arena': { enableCpuMemArena: false, enableMemPattern: true },
  'no arena, no pattern': { enableCpuMemArena: false, enableMemPattern: false },
};
const mib = (field: string): number => Math.round(Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024);

if (values.variant === undefined) {
  for (const name of Object.keys(variants)) {
    const child = spawnSync(process.execPath, [import.meta.filename, '--variant', name, '--batch', values.batch, '--runs', values.runs], { encoding: 'utf8' });
    process.stdout.write(child.stdout);
    if (child.status !== 0) process.stderr.write(child.stderr);
  }
} else {
  const variant = variants[values.variant];
  if (variant === undefined) throw new Error(`unknown variant ${values.variant}`);
  const batch = Number(values.batch);
  const model = await loadModel(modelCardPathOf({ modelCard: undefined, modelsDir: undefined }));
  const { session } = await openSession(model.modelPath, { device: 'cpu', cudaDeviceId: 0, intraOpThreads: availableParallelism(), interOpThreads: 1, ...variant });
  const opened = mib('VmRSS');
  const shape = model.shape(batch);
  const input = new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5), shape);
  const perRun: string[] = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const started = performance.now();
    const outputs = await session.run({ [model.inputName]: input });
    for (const output of Object.values(outputs)) output.dispose();
    perRun.push(`run ${i + 1}: RSS ${mib('VmRSS')} MiB, ${Math.round(performance.now() - started)} ms`);
  }
  console.log(`${values.variant}, batch ${batch}: after open ${opened} MiB; ${perRun.join('; ')}; peak ${mib('VmHWM')} MiB`);
  await session.release();
}
