import { writeFile } from 'node:fs/promises';
import { OnnxGraphBuilder } from './onnx-graph-builder.ts';
import { SeededRandom } from './seeded-random.ts';

/**
 * A small plain CNN (conv 3x3/8 stride 2, ReLU, global average pool, fully connected) written as ONNX:
 * not a ResNet50, a few kilobytes, for tests of the inspector and the card check.
 */
export async function writeTinyCnn(file: string, options: { size: number; classes: number; inputName?: string; outputName?: string }): Promise<void> {
  const random = new SeededRandom(11);
  const builder = new OnnxGraphBuilder('tiny-cnn');
  const input = builder.addInput(options.inputName ?? 'input', ['N', 3, options.size, options.size]);
  let x = builder.conv(input, 'conv', { weight: random.normals(8 * 3 * 9, 0.3), weightDims: [8, 3, 3, 3], bias: new Float32Array(8), strides: [2, 2], pads: [1, 1, 1, 1] });
  x = builder.flatten(builder.unary('GlobalAveragePool', builder.unary('Relu', x, 'relu'), 'pool'), 'flatten');
  x = builder.gemm(x, 'fc', { weight: random.normals(8 * options.classes, 0.3), inFeatures: 8, outFeatures: options.classes, bias: new Float32Array(options.classes) });
  builder.addOutput(x, options.outputName ?? 'logits', ['N', options.classes]);
  await writeFile(file, builder.encode({ producerName: 'labelq tiny-cnn' }));
}
