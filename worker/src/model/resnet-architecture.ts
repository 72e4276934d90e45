import type { OnnxGraphBuilder } from './onnx-graph-builder.ts';

/**
 * The bottleneck ResNet of He et al. 2015 (table 1) as ONNX nodes: conv1 7x7/64 stride 2, max-pool 3x3 stride 2,
 * four stages of 1x1-3x3-1x1 bottleneck blocks (64/128/256/512 wide, x4 out), global average pool, fully connected.
 * Batch normalisation is taken as already folded into each convolution (every convolution has a bias).
 * ResNet50 is blocks [3, 4, 6, 3]; other counts make other depths (handy for tests).
 */
export interface BottleneckResnetSpec {
  blocksPerStage: readonly number[];
  classes: number;
  /** Where a stage's stride 2 sits: on the first 1x1 (original paper, Keras) or on the 3x3 (torchvision, "v1.5"). */
  strideOn: '1x1' | '3x3';
  /** Softmax at the end (probabilities) or not (logits). */
  softmax: boolean;
}

/** Supplies a convolution's or the classifier's weights; `role` says where it sits (for scaling). */
export type WeightSource = (name: string, dims: readonly number[], role: 'conv' | 'residual-out' | 'fc') => { weight: Float32Array; bias: Float32Array };

export const resnet50Spec: Omit<BottleneckResnetSpec, 'strideOn' | 'softmax'> = { blocksPerStage: [3, 4, 6, 3], classes: 1000 };

interface ConvArgs {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  role?: 'conv' | 'residual-out';
}

function conv(builder: OnnxGraphBuilder, weights: WeightSource, input: string, name: string, args: ConvArgs): string {
  const dims: [number, number, number, number] = [args.outChannels, args.inChannels, args.kernel, args.kernel];
  const { weight, bias } = weights(name, dims, args.role ?? 'conv');
  const pad = Math.floor(args.kernel / 2);
  return builder.conv(input, name, { weight, weightDims: dims, bias, strides: [args.stride, args.stride], pads: [pad, pad, pad, pad] });
}

function bottleneck(builder: OnnxGraphBuilder, weights: WeightSource, input: string, name: string, p: { inChannels: number; width: number; stride: number; strideOn: '1x1' | '3x3' }): string {
  const out = p.width * 4;
  const [stride1x1, stride3x3] = p.strideOn === '1x1' ? [p.stride, 1] : [1, p.stride];
  let x = conv(builder, weights, input, `${name}.conv1`, { inChannels: p.inChannels, outChannels: p.width, kernel: 1, stride: stride1x1 });
  x = builder.unary('Relu', x, `${name}.relu1`);
  x = conv(builder, weights, x, `${name}.conv2`, { inChannels: p.width, outChannels: p.width, kernel: 3, stride: stride3x3 });
  x = builder.unary('Relu', x, `${name}.relu2`);
  x = conv(builder, weights, x, `${name}.conv3`, { inChannels: p.width, outChannels: out, kernel: 1, stride: 1, role: 'residual-out' });
  const shortcut =
    p.inChannels === out && p.stride === 1
      ? input
      : conv(builder, weights, input, `${name}.downsample`, { inChannels: p.inChannels, outChannels: out, kernel: 1, stride: p.stride });
  return builder.unary('Relu', builder.add([x, shortcut], `${name}.add`), `${name}.relu3`);
}

/** Emits the network from `input` ([N, 3, H, W]) and returns the output tensor ([N, classes]). */
export function emitBottleneckResnet(builder: OnnxGraphBuilder, weights: WeightSource, input: string, spec: BottleneckResnetSpec): string {
  let x = conv(builder, weights, input, 'conv1', { inChannels: 3, outChannels: 64, kernel: 7, stride: 2 });
  x = builder.unary('Relu', x, 'relu');
  x = builder.maxPool(x, 'maxpool', { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  let channels = 64;
  spec.blocksPerStage.forEach((blocks, stage) => {
    const width = 64 * 2 ** stage;
    for (let block = 0; block < blocks; block++) {
      const stride = block === 0 && stage > 0 ? 2 : 1;
      x = bottleneck(builder, weights, x, `layer${stage + 1}.${block}`, { inChannels: channels, width, stride, strideOn: spec.strideOn });
      channels = width * 4;
    }
  });
  x = builder.flatten(builder.unary('GlobalAveragePool', x, 'avgpool'), 'flatten');
  const fc = weights('fc', [channels, spec.classes], 'fc');
  x = builder.gemm(x, 'fc', { weight: fc.weight, bias: fc.bias, inFeatures: channels, outFeatures: spec.classes });
  return spec.softmax ? builder.softmax(x, 'softmax', 1) : x;
}
