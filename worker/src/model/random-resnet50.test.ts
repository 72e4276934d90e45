import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelCard } from '@labelq/shared/model-card';
import { checkModelAgainstCard } from './check-card.ts';
import { buildRandomResnet50 } from './random-resnet50.ts';
import { repoRoot } from './test-paths.ts';

const tempDir = await mkdtemp(path.join(os.tmpdir(), 'labelq-random-'));
afterAll(() => rm(tempDir, { recursive: true, force: true }));

describe('buildRandomResnet50', () => {
  it('writes a torchvision-style ResNet50 and card that ONNX Runtime runs, giving finite logits', async () => {
    const built = await buildRandomResnet50({ seed: 1, outDir: tempDir, style: 'torchvision' });
    const card = await readModelCard(built.cardPath);
    expect(card.name).toBe('resnet50-random-torchvision-seed1');
    expect(card.output).toEqual({ name: 'logits', kind: 'logits' });
    expect(card.preprocess).toMatchObject({ colorOrder: 'RGB', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(card.preprocess.scale).toBeCloseTo(1 / 255, 12);
    await checkModelAgainstCard(built.onnxPath, card);
    const session = await ort.InferenceSession.create(built.onnxPath);
    const input = Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i) * 2);
    const out = await session.run({ input: new ort.Tensor('float32', input, [1, 3, 224, 224]) });
    const logits = out['logits']?.data as Float32Array;
    expect(logits).toHaveLength(1000);
    expect(logits.every(Number.isFinite)).toBe(true);
    expect(Math.max(...logits) - Math.min(...logits)).toBeGreaterThan(0.1);
    await session.release();
  }, 60_000);

  it('gives the same file for the same seed and another for another seed', async () => {
    const a = await buildRandomResnet50({ seed: 9, outDir: path.join(tempDir, 'a'), style: 'keras', blocksPerStage: [1, 1, 1, 1] });
    const b = await buildRandomResnet50({ seed: 9, outDir: path.join(tempDir, 'b'), style: 'keras', blocksPerStage: [1, 1, 1, 1] });
    const c = await buildRandomResnet50({ seed: 10, outDir: path.join(tempDir, 'c'), style: 'keras', blocksPerStage: [1, 1, 1, 1] });
    expect(a.sha256).toBe(b.sha256);
    expect(c.sha256).not.toBe(a.sha256);
    expect(a.card.output).toEqual({ name: 'probabilities', kind: 'probabilities' });
    expect(a.card.preprocess.colorOrder).toBe('BGR');
  }, 60_000);

  it('runs as a script', async () => {
    const out = path.join(tempDir, 'script');
    const node = path.join(repoRoot, 'node_modules', '.bin', 'node');
    const { stdout } = await promisify(execFile)(node, [path.join(import.meta.dirname, 'random-resnet50.ts'), '--out', out, '--seed', '2', '--style', 'torchvision']);
    expect(stdout).toMatch(/sha256 [0-9a-f]{64}/);
    expect((await readdir(out)).sort()).toEqual(['resnet50-random-torchvision-seed2.json', 'resnet50-random-torchvision-seed2.onnx']);
  }, 60_000);
});
