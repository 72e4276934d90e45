import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { LabelqError } from '@labelq/shared/errors';
import { convertKerasToOnnx } from './convert-keras.ts';
import * as ref from './keras-reference.ts';
import { SeededRandom } from './seeded-random.ts';
import type { KerasLayer, TfjsLayersModel } from './tfjs-layers.ts';

/** A small Keras functional model that exercises every fold: asymmetric zero padding, 'same' stride-2 conv, BN fold, BN kept, max-pool pad fold, Add, Flatten of a 2-D map, Dense softmax. */
const random = new SeededRandom(7);
const weights: TfjsLayersModel['weights'] = new Map();
const w = (name: string, shape: number[], std = 0.5, offset = 0): Float32Array => {
  const values = random.normals(shape.reduce((a, b) => a * b, 1), std).map((v) => v + offset);
  weights.set(name, { shape, values });
  return values;
};
const bn = (name: string, c: number) => ({
  gamma: w(`${name}/gamma`, [c], 0.3, 1),
  beta: w(`${name}/beta`, [c]),
  mean: w(`${name}/moving_mean`, [c]),
  variance: w(`${name}/moving_variance`, [c], 0.2, 1).map(Math.abs),
  epsilon: 0.001,
});
const p = {
  c1k: w('c1/kernel', [3, 3, 2, 4]),
  c1b: w('c1/bias', [4]),
  bn1: bn('bn1', 4),
  c2k: w('c2/kernel', [1, 1, 4, 4]),
  c2b: w('c2/bias', [4]),
  bn2: bn('bn2', 4),
  dk: w('d/kernel', [5 * 5 * 4, 5]),
  db: w('d/bias', [5]),
};
weights.set('bn1/moving_variance', { shape: [4], values: p.bn1.variance });
weights.set('bn2/moving_variance', { shape: [4], values: p.bn2.variance });

const layer = (name: string, class_name: string, config: Record<string, unknown>, inputs: string[]): KerasLayer => ({
  name,
  class_name,
  config: { name, ...config },
  inbound_nodes: inputs.length > 0 ? [inputs.map((i) => [i, 0, 0, {}])] : [],
});
const layers: KerasLayer[] = [
  layer('in', 'InputLayer', { batch_input_shape: [null, 9, 7, 2] }, []),
  layer('zp', 'ZeroPadding2D', { padding: [[1, 0], [2, 1]] }, ['in']),
  layer('c1', 'Conv2D', { filters: 4, kernel_size: [3, 3], strides: [2, 2], padding: 'same', activation: 'linear', use_bias: true }, ['zp']),
  layer('bn1', 'BatchNormalization', { axis: [3], epsilon: 0.001 }, ['c1']),
  layer('a1', 'Activation', { activation: 'relu' }, ['bn1']),
  layer('zp2', 'ZeroPadding2D', { padding: [[1, 1], [1, 1]] }, ['a1']),
  layer('mp', 'MaxPooling2D', { pool_size: [3, 3], strides: [1, 1], padding: 'valid' }, ['zp2']),
  layer('c2', 'Conv2D', { filters: 4, kernel_size: [1, 1], strides: [1, 1], padding: 'valid', activation: 'relu', use_bias: true }, ['mp']),
  layer('bn2', 'BatchNormalization', { axis: -1, epsilon: 0.001 }, ['c2']),
  layer('add', 'Add', {}, ['mp', 'bn2']),
  layer('fl', 'Flatten', {}, ['add']),
  layer('d', 'Dense', { units: 5, activation: 'softmax', use_bias: true }, ['fl']),
];
const model = (list: KerasLayer[]): TfjsLayersModel => ({
  format: 'layers-model',
  generatedBy: 'test',
  convertedBy: 'test',
  model: { name: 'tiny', layers: list, input_layers: [['in', 0, 0]], output_layers: [[list.at(-1)?.name ?? '', 0, 0]] },
  weights,
});

function reference(image: ref.Hwc): number[] {
  let x = ref.zeroPad(image, 1, 0, 2, 1);
  x = ref.relu(ref.batchNorm(ref.conv2d(x, p.c1k, 3, 4, 2, 'same', p.c1b), p.bn1));
  const pooled = ref.maxPoolValid(ref.zeroPad(x, 1, 1, 1, 1), 3, 1);
  const branch = ref.batchNorm(ref.relu(ref.conv2d(pooled, p.c2k, 1, 4, 1, 'valid', p.c2b)), p.bn2);
  return ref.denseSoftmax(ref.add(pooled, branch), p.dk, 5, p.db);
}

const tempDir = await mkdtemp(path.join(os.tmpdir(), 'labelq-keras-'));
afterAll(() => rm(tempDir, { recursive: true, force: true }));

describe('convertKerasToOnnx on a small model', () => {
  it('matches a plain channels-last reference of the Keras layers', async () => {
    const converted = convertKerasToOnnx(model(layers));
    expect(converted.inputShape).toEqual([2, 9, 7]);
    expect(converted.outputShape).toEqual([5]);
    expect(converted.outputKind).toBe('probabilities');
    expect(converted.notes.join('\n')).toMatch(/1 BatchNormalization layers folded/);
    expect(converted.notes.join('\n')).toMatch(/ZeroPadding2D folded into the pads of c1 \(Conv\), mp \(MaxPool/);
    const file = path.join(tempDir, 'tiny.onnx');
    await writeFile(file, converted.onnxBytes);
    const session = await ort.InferenceSession.create(file);
    const images = [0, 1].map(() => ref.hwc(9, 7, 2, random.normals(9 * 7 * 2, 1)));
    const nchw = new Float32Array(2 * 2 * 9 * 7);
    images.forEach((image, n) => image.data.forEach((v, i) => (nchw[n * 126 + (i % 2) * 63 + Math.floor(i / 2)] = v)));
    const out = await session.run({ input: new ort.Tensor('float32', nchw, [2, 2, 9, 7]) });
    const got = Array.from(out['probabilities']?.data as Float32Array);
    const expected = images.flatMap(reference);
    const maxDiff = Math.max(...got.map((v, i) => Math.abs(v - (expected[i] as number))));
    expect(maxDiff).toBeLessThan(1e-5);
    await session.release();
  });

  it('refuses an unknown layer type, naming the layer', () => {
    const withLstm = [...layers.slice(0, 2), layer('my_lstm', 'LSTM', { units: 3 }, ['zp'])];
    expect(() => convertKerasToOnnx(model(withLstm))).toThrow(LabelqError);
    expect(() => convertKerasToOnnx(model(withLstm))).toThrow(/Keras layer my_lstm \(LSTM\).*LSTM is not supported/);
  });

  it('refuses channels_first layers', () => {
    const firstLayers = layers.map((l) => (l.name === 'c1' ? { ...l, config: { ...l.config, data_format: 'channels_first' } } : l));
    expect(() => convertKerasToOnnx(model(firstLayers))).toThrow(/c1 \(Conv2D\).*channels_first/);
  });
});
