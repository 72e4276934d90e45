import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelCard } from '@labelq/shared/model-card';
import { buildModelCard, type PreprocessStyle } from './card-presets.ts';
import { fileSha256 } from './file-sha256.ts';
import { readImagenetClasses } from './imagenet-classes.ts';
import { OnnxGraphBuilder } from './onnx-graph-builder.ts';
import { emitBottleneckResnet, resnet50Spec, type BottleneckResnetSpec, type WeightSource } from './resnet-architecture.ts';
import { SeededRandom } from './seeded-random.ts';

export interface RandomResnet50Options {
  seed: number;
  outDir: string;
  /** Default `resnet50-random-<style>-seed<seed>`. */
  name?: string;
  /** keras: BGR caffe input, softmax output, stride on the 1x1; torchvision: RGB /255 mean/std input, logits, stride on the 3x3. */
  style: PreprocessStyle;
  /** Other depths for tests; default ResNet50's [3, 4, 6, 3]. */
  blocksPerStage?: readonly number[];
}

export interface RandomResnet50Result {
  onnxPath: string;
  cardPath: string;
  sha256: string;
  card: ModelCard;
}

/**
 * He-normal weights (std sqrt(2 / fan-in)) from a seeded PRNG, zero biases. The last convolution of each
 * residual branch is scaled down (as zero-init of its batch-norm gamma would) so that activations stay in
 * a sane range through 16 residual additions without batch normalisation.
 */
function heNormalWeights(seed: number): WeightSource {
  const random = new SeededRandom(seed);
  return (_name, dims, role) => {
    const count = dims.reduce((a, b) => a * b, 1);
    const fanIn = role === 'fc' ? (dims[0] as number) : count / (dims[0] as number);
    const gain = role === 'fc' ? 1 : role === 'residual-out' ? 0.2 * Math.SQRT2 : Math.SQRT2;
    const outChannels = role === 'fc' ? (dims[1] as number) : (dims[0] as number);
    return { weight: random.normals(count, gain / Math.sqrt(fanIn)), bias: new Float32Array(outChannels) };
  };
}

/** Builds a ResNet50 with seeded random weights plus its model card (deterministic: same seed, same sha256). */
export async function buildRandomResnet50(options: RandomResnet50Options): Promise<RandomResnet50Result> {
  const name = options.name ?? `resnet50-random-${options.style}-seed${options.seed}`;
  const keras = options.style === 'keras';
  const spec: BottleneckResnetSpec = {
    blocksPerStage: options.blocksPerStage ?? resnet50Spec.blocksPerStage,
    classes: resnet50Spec.classes,
    strideOn: keras ? '1x1' : '3x3',
    softmax: keras,
  };
  const inputName = 'input';
  const outputName = keras ? 'probabilities' : 'logits';
  const builder = new OnnxGraphBuilder(name);
  builder.addInput(inputName, ['N', 3, 224, 224]);
  const output = emitBottleneckResnet(builder, heNormalWeights(options.seed), inputName, spec);
  builder.addOutput(output, outputName, ['N', spec.classes]);
  const bytes = builder.encode({ producerName: 'labelq random-resnet50', docString: `ResNet with random weights, seed ${options.seed}, ${options.style} style.` });

  await mkdir(options.outDir, { recursive: true });
  const onnxPath = path.join(options.outDir, `${name}.onnx`);
  const cardPath = path.join(options.outDir, `${name}.json`);
  await writeFile(`${onnxPath}.tmp`, bytes);
  await rename(`${onnxPath}.tmp`, onnxPath);
  const sha256 = await fileSha256(onnxPath);
  const card = buildModelCard({
    name,
    file: path.basename(onnxPath),
    sha256,
    inputName,
    outputName,
    outputKind: keras ? 'probabilities' : 'logits',
    style: options.style,
    labels: await readImagenetClasses(),
    source: { generator: 'labelq worker/src/model/random-resnet50.ts', seed: options.seed, style: options.style, blocksPerStage: spec.blocksPerStage, weights: 'random He-normal, not trained: labels are meaningless' },
  });
  await writeFile(cardPath, `${JSON.stringify(card, null, 2)}\n`);
  return { onnxPath, cardPath, sha256, card };
}

function parseStyle(value: string | undefined): PreprocessStyle {
  if (value === undefined || value === 'keras' || value === 'torchvision') return value ?? 'keras';
  throw new Error(`--style must be keras or torchvision, not ${value}`);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, seed: { type: 'string', default: '1' }, style: { type: 'string' }, name: { type: 'string' } } });
  if (!values.out) {
    console.error('usage: node worker/src/model/random-resnet50.ts --out DIR [--seed N] [--style keras|torchvision] [--name NAME]');
    process.exit(2);
  }
  const result = await buildRandomResnet50({ outDir: values.out, seed: Number(values.seed), style: parseStyle(values.style), name: values.name });
  console.log(`${result.onnxPath}\n${result.cardPath}\nsha256 ${result.sha256}`);
}
