import { intAttribute, intsAttribute } from './onnx-attributes.ts';
import type { OnnxTypes } from './onnx-proto.ts';
import type { ShapedGraph } from './onnx-shape-inference.ts';

/**
 * Finds the structure of a residual CNN from the graph alone (no layer names): residual blocks are Adds of two
 * same-shaped image tensors that share an ancestor; the convolutions on the longer path are the block's main
 * path, those on the other its shortcut; blocks with the same output size form a stage; what comes before the
 * first block is the stem, what follows the last one the head.
 */
export interface ConvSummary {
  name: string;
  kernel: [number, number];
  inChannels: number;
  outChannels: number;
  stride: number;
  group: number;
  /** [C, H, W] of one image. */
  outputShape: number[];
  macs: number;
}

export interface PoolSummary {
  op: string;
  kernel: [number, number];
  stride: number;
  outputShape: number[];
}

export interface ResidualBlock {
  mainPath: ConvSummary[];
  /** Empty for an identity shortcut, else the projection convolution(s). */
  shortcut: ConvSummary[];
  outputShape: number[];
}

export interface Stage {
  /** As in the paper's table 1: conv2_x, conv3_x, ... */
  name: string;
  outputSize: [number, number];
  blocks: ResidualBlock[];
}

export interface NetworkStructure {
  stem: { convs: ConvSummary[]; pools: PoolSummary[] };
  stages: Stage[];
  head: { pools: string[]; fc: { inFeatures: number; outFeatures: number }[]; softmax: boolean };
  /** Convolutions that are neither in the stem nor in a residual block. */
  otherConvs: ConvSummary[];
  totalMacs: number;
}

type Node = OnnxTypes.INodeProto;

function perImage(shape: number[] | undefined): number[] {
  return shape ? shape.slice(1) : [];
}

function convSummary(node: Node, graph: ShapedGraph): ConvSummary {
  const weight = graph.shapes.get(node.input?.[1] ?? '') ?? [];
  const output = perImage(graph.shapes.get(node.output?.[0] ?? ''));
  const kernel = intsAttribute(node, 'kernel_shape') ?? weight.slice(2);
  const group = intAttribute(node, 'group', 1);
  const outChannels = weight[0] ?? 0;
  const inPerGroup = weight[1] ?? 0;
  const macs = output.length === 3 ? (output[0] ?? 0) * (output[1] ?? 0) * (output[2] ?? 0) * inPerGroup * (weight[2] ?? 1) * (weight[3] ?? 1) : 0;
  return {
    name: node.name || node.output?.[0] || '?',
    kernel: [kernel[0] ?? 0, kernel[1] ?? 0],
    inChannels: inPerGroup * group,
    outChannels,
    stride: (intsAttribute(node, 'strides') ?? [1])[0] ?? 1,
    group,
    outputShape: output,
    macs,
  };
}

/** Multiply-accumulates of a fully connected node (Gemm or MatMul with a 2-D weight), per image. */
function fcSize(node: Node, graph: ShapedGraph): { inFeatures: number; outFeatures: number } | undefined {
  if (node.opType !== 'Gemm' && node.opType !== 'MatMul') return undefined;
  const weight = graph.shapes.get(node.input?.[1] ?? '');
  if (!weight || weight.length !== 2 || !graph.initializers.has(node.input?.[1] ?? '')) return undefined;
  const transposed = node.opType === 'Gemm' && intAttribute(node, 'transB', 0) === 1;
  const [k, n] = transposed ? [weight[1], weight[0]] : [weight[0], weight[1]];
  return { inFeatures: k ?? 0, outFeatures: n ?? 0 };
}

class StructureFinder {
  private readonly graph: ShapedGraph;
  private readonly producer = new Map<string, Node>();

  constructor(graph: ShapedGraph) {
    this.graph = graph;
    for (const node of graph.nodes) for (const output of node.output ?? []) this.producer.set(output, node);
  }

  /** Inputs that carry data (not weights or constants). */
  dataInputs(node: Node): string[] {
    return (node.input ?? []).filter((i) => i && !this.graph.initializers.has(i) && this.producer.get(i)?.opType !== 'Constant' && !this.graph.constants.has(i));
  }

  /** The chain of tensors above `tensor`, following single-input nodes, and the nodes passed on the way. */
  ancestry(tensor: string): { tensors: string[]; nodes: Node[] } {
    const tensors = [tensor];
    const nodes: Node[] = [];
    for (let current = tensor; ; ) {
      const node = this.producer.get(current);
      if (!node) break;
      const inputs = this.dataInputs(node);
      nodes.push(node);
      if (inputs.length !== 1) break;
      current = inputs[0] as string;
      tensors.push(current);
    }
    return { tensors, nodes };
  }

  /** The convolutions between `tensor` and its ancestor `until`, in forward order. */
  convsBetween(tensor: string, until: string): ConvSummary[] {
    const convs: ConvSummary[] = [];
    for (let current = tensor; current !== until; ) {
      const node = this.producer.get(current);
      if (!node) break;
      if (node.opType === 'Conv') convs.unshift(convSummary(node, this.graph));
      current = this.dataInputs(node)[0] ?? until;
    }
    return convs;
  }

  residualBlock(add: Node): { block: ResidualBlock; input: string; output: string } | undefined {
    const [a, b] = this.dataInputs(add);
    if (!a || !b || this.dataInputs(add).length !== 2) return undefined;
    const shapeA = this.graph.shapes.get(a);
    const shapeB = this.graph.shapes.get(b);
    if (!shapeA || shapeA.length !== 4 || shapeA.join() !== shapeB?.join()) return undefined;
    const above = new Set(this.ancestry(a).tensors);
    const input = this.ancestry(b).tensors.find((t) => above.has(t));
    if (!input) return undefined;
    const pathA = this.convsBetween(a, input);
    const pathB = this.convsBetween(b, input);
    if (pathA.length + pathB.length === 0) return undefined;
    const [mainPath, shortcut] = pathA.length >= pathB.length ? [pathA, pathB] : [pathB, pathA];
    return { block: { mainPath, shortcut, outputShape: perImage(shapeA) }, input, output: add.output?.[0] ?? '' };
  }

  find(): NetworkStructure {
    const blocks: { block: ResidualBlock; input: string; output: string; index: number }[] = [];
    this.graph.nodes.forEach((node, index) => {
      if (node.opType !== 'Add') return;
      const found = this.residualBlock(node);
      if (found) blocks.push({ ...found, index });
    });
    const firstBlock = blocks[0];
    const lastBlockIndex = blocks.at(-1)?.index ?? -1;
    const stemNodes = firstBlock ? this.ancestry(firstBlock.input).nodes.reverse() : [];
    const stem = {
      convs: stemNodes.filter((n) => n.opType === 'Conv').map((n) => convSummary(n, this.graph)),
      pools: stemNodes
        .filter((n) => n.opType === 'MaxPool' || n.opType === 'AveragePool')
        .map((n) => ({
          op: n.opType ?? '',
          kernel: (intsAttribute(n, 'kernel_shape') ?? [0, 0]) as [number, number],
          stride: (intsAttribute(n, 'strides') ?? [1])[0] ?? 1,
          outputShape: perImage(this.graph.shapes.get(n.output?.[0] ?? '')),
        })),
    };
    const stages: Stage[] = [];
    for (const { block } of blocks) {
      const size: [number, number] = [block.outputShape[1] ?? 0, block.outputShape[2] ?? 0];
      const last = stages.at(-1);
      if (last && last.outputSize.join() === size.join()) last.blocks.push(block);
      else stages.push({ name: `conv${stages.length + 2}_x`, outputSize: size, blocks: [block] });
    }
    const headNodes = this.graph.nodes.slice(lastBlockIndex + 1);
    const head = {
      pools: headNodes.filter((n) => /Pool$|^Reduce(Mean|Max)$/.test(n.opType ?? '')).map((n) => n.opType ?? ''),
      fc: headNodes.map((n) => fcSize(n, this.graph)).filter((f) => f !== undefined),
      softmax: headNodes.some((n) => n.opType === 'Softmax'),
    };
    const counted = new Set([...stem.convs, ...blocks.flatMap((b) => [...b.block.mainPath, ...b.block.shortcut])].map((c) => c.name));
    const allConvs = this.graph.nodes.filter((n) => n.opType === 'Conv').map((n) => convSummary(n, this.graph));
    const fcMacs = this.graph.nodes.map((n) => fcSize(n, this.graph)).reduce((sum, f) => sum + (f ? f.inFeatures * f.outFeatures : 0), 0);
    return {
      stem,
      stages,
      head,
      otherConvs: allConvs.filter((c) => !counted.has(c.name)),
      totalMacs: allConvs.reduce((sum, c) => sum + c.macs, 0) + fcMacs,
    };
  }
}

export function findNetworkStructure(graph: ShapedGraph): NetworkStructure {
  return new StructureFinder(graph).find();
}
