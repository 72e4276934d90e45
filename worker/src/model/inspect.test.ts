import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchAndConvert } from './fetch-and-convert.ts';
import { formatInspectReport, inspectOnnxModel } from './inspect.ts';
import { buildRandomResnet50 } from './random-resnet50.ts';
import { testModelsDir } from './test-paths.ts';
import { writeTinyCnn } from './tiny-cnn.ts';

const tempDir = await mkdtemp(path.join(os.tmpdir(), 'labelq-inspect-'));
afterAll(() => rm(tempDir, { recursive: true, force: true }));

describe('inspectOnnxModel', () => {
  it('describes the converted Keras ResNet50 stage by stage, as table 1 of the paper', async () => {
    const { onnxPath } = await fetchAndConvert({ modelsDir: testModelsDir });
    const report = await inspectOnnxModel(onnxPath);
    expect(report.differences).toEqual([]);
    expect(report.isResnet50).toBe(true);
    const { structure } = report;
    expect(structure.stem.convs.map((c) => [c.kernel, c.outChannels, c.stride, c.outputShape])).toEqual([[[7, 7], 64, 2, [64, 112, 112]]]);
    expect(structure.stem.pools.map((p) => [p.op, p.kernel, p.stride, p.outputShape])).toEqual([['MaxPool', [3, 3], 2, [64, 56, 56]]]);
    expect(structure.stages.map((s) => [s.name, s.outputSize, s.blocks.length])).toEqual([
      ['conv2_x', [56, 56], 3],
      ['conv3_x', [28, 28], 4],
      ['conv4_x', [14, 14], 6],
      ['conv5_x', [7, 7], 3],
    ]);
    expect(structure.stages.map((s) => s.blocks[0]?.mainPath.map((c) => c.outChannels))).toEqual([[64, 64, 256], [128, 128, 512], [256, 256, 1024], [512, 512, 2048]]);
    expect(structure.stages.map((s) => s.blocks.map((b) => b.shortcut.length).join(''))).toEqual(['100', '1000', '100000', '100']);
    expect(structure.head).toEqual({ pools: ['GlobalAveragePool'], fc: [{ inFeatures: 2048, outFeatures: 1000 }], softmax: true });
    // Batch norm is folded, so this is the Keras count (25,636,712) less 4 x 26,560 batch-norm values.
    expect(report.parameters).toBe(25_530_472);
    expect(report.macsPerImage).toBeGreaterThan(3.8e9);
    expect(report.macsPerImage).toBeLessThan(3.9e9);
    expect(report.classes).toBe(1000);
    const text = formatInspectReport(report);
    expect(text).toMatch(/conv1\s+112×112\s+7×7, 64, stride 2/);
    expect(text).toMatch(/3×3 max pool, stride 2/);
    expect(text).toMatch(/conv5_x\s+7×7\s+\[1×1, 512 \| 3×3, 512 \| 1×1, 2048\] × 3/);
    expect(text).toMatch(/verdict: a ResNet50/);
  }, 240_000);

  it('recognises a torchvision-style ResNet50 (stride on the 3x3, logits) from its structure alone', async () => {
    const { onnxPath } = await buildRandomResnet50({ seed: 5, outDir: tempDir, style: 'torchvision' });
    const report = await inspectOnnxModel(onnxPath);
    expect(report.differences).toEqual([]);
    expect(report.structure.stages[1]?.blocks[0]?.mainPath.map((c) => c.stride)).toEqual([1, 2, 1]);
    expect(report.macsPerImage).toBeGreaterThan(4.0e9);
    expect(report.macsPerImage).toBeLessThan(4.15e9);
    expect(report.structure.head.softmax).toBe(false);
  }, 60_000);

  it('says which block counts differ for a shallower bottleneck ResNet', async () => {
    const { onnxPath } = await buildRandomResnet50({ seed: 5, outDir: tempDir, style: 'keras', name: 'resnet26', blocksPerStage: [2, 2, 2, 2] });
    const report = await inspectOnnxModel(onnxPath);
    expect(report.isResnet50).toBe(false);
    expect(report.differences).toEqual(['the residual blocks per stage are 2/2/2/2, not 3/4/6/3']);
    expect(formatInspectReport(report)).toMatch(/NOT a ResNet50:\n {2}- the residual blocks per stage are 2\/2\/2\/2/);
  }, 60_000);

  it('names what differs for a small plain CNN', async () => {
    const file = path.join(tempDir, 'tiny.onnx');
    await writeTinyCnn(file, { size: 64, classes: 10 });
    const report = await inspectOnnxModel(file);
    expect(report.isResnet50).toBe(false);
    const text = report.differences.join('\n');
    expect(text).toMatch(/the input is \[N, 3, 64, 64\], not \[N, 3, 224, 224\]/);
    expect(text).toMatch(/has 10 classes, not 1000/);
    expect(text).toMatch(/residual blocks per stage are none, not 3\/4\/6\/3/);
    expect(text).toMatch(/convolution\(s\) sit outside the stem and the residual blocks/);
    expect(report.parameters).toBe(8 * 27 + 8 + 8 * 10 + 10);
    expect(report.macsPerImage).toBe(8 * 32 * 32 * 27 + 80);
  });
});
