import { intAttribute, intsAttribute, stringAttribute, tensorAttribute, tensorValues } from './onnx-attributes.ts';
import { int64ToNumber, type OnnxTypes } from './onnx-proto.ts';

/**
 * Simple shape inference for one image (symbolic batch dims taken as 1): enough for CNN classifiers
 * (Conv, pools, Pad, BatchNormalization, activations, Add, Flatten, Reshape, Gemm, MatMul, Transpose,
 * Concat, Squeeze/Unsqueeze, ReduceMean, and the Shape/Gather/Concat chains older exporters use for Flatten).
 * Tensors it cannot follow stay without a shape; their op types are listed.
 */
export interface ShapedGraph {
  nodes: OnnxTypes.INodeProto[];
  initializers: Map<string, OnnxTypes.ITensorProto>;
  /** Shape of every tensor it could follow, batch included. */
  shapes: Map<string, number[]>;
  /** Small integer tensors whose values are known (initializers, Constant, Shape chains). */
  constants: Map<string, number[]>;
  opset: number;
  unsupportedOps: Set<string>;
}

const elementwiseUnary = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Clip', 'Sigmoid', 'Tanh', 'Softmax', 'LogSoftmax', 'BatchNormalization', 'Identity', 'Dropout',
  'Cast', 'Erf', 'Sqrt', 'Exp', 'Log', 'Neg', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Softplus', 'LRN', 'InstanceNormalization',
]);
const elementwiseBinary = new Set(['Add', 'Sub', 'Mul', 'Div', 'Sum', 'Max', 'Min', 'Pow', 'Mean']);

function broadcast(shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const dims = shapes.map((s) => s[s.length - rank + i] ?? 1);
    out.push(Math.max(...dims));
  }
  return out;
}

function product(values: readonly number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

function normaliseAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Output spatial sizes of Conv and the pools (explicit pads, auto_pad, ceil_mode). */
function windowShape(node: OnnxTypes.INodeProto, input: number[], kernel: number[], outChannels: number): number[] {
  const spatial = input.slice(2);
  const strides = intsAttribute(node, 'strides') ?? spatial.map(() => 1);
  const dilations = intsAttribute(node, 'dilations') ?? spatial.map(() => 1);
  const pads = intsAttribute(node, 'pads') ?? spatial.flatMap(() => [0, 0]);
  const autoPad = stringAttribute(node, 'auto_pad', 'NOTSET');
  const ceil = intAttribute(node, 'ceil_mode', 0) === 1;
  const out = spatial.map((size, i) => {
    const stride = strides[i] ?? 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(size / stride);
    const effective = ((kernel[i] ?? 1) - 1) * (dilations[i] ?? 1) + 1;
    const padTotal = autoPad === 'VALID' ? 0 : (pads[i] ?? 0) + (pads[i + spatial.length] ?? 0);
    const span = (size + padTotal - effective) / stride;
    return (ceil ? Math.ceil(span) : Math.floor(span)) + 1;
  });
  return [input[0] ?? 1, outChannels, ...out];
}

class ShapeInference {
  readonly graph: ShapedGraph;

  constructor(model: OnnxTypes.IModelProto) {
    const graph = model.graph ?? {};
    const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
    const opset = int64ToNumber((model.opsetImport ?? []).find((o) => !o.domain)?.version ?? 0);
    this.graph = { nodes: graph.node ?? [], initializers, shapes: new Map(), constants: new Map(), opset, unsupportedOps: new Set() };
    for (const [name, tensor] of initializers) {
      this.graph.shapes.set(name, (tensor.dims ?? []).map((d) => int64ToNumber(d)));
      if ((tensor.dims ?? []).length <= 1 && tensor.dataType !== 1) {
        const values = tensorValues(tensor);
        if (values) this.graph.constants.set(name, values);
      }
    }
    for (const input of graph.input ?? []) {
      if (initializers.has(input.name ?? '')) continue;
      const dims = input.type?.tensorType?.shape?.dim ?? [];
      const known = dims.map((d) => (d.dimValue !== null && d.dimValue !== undefined && !d.dimParam ? int64ToNumber(d.dimValue) : d.dimParam ? 1 : NaN));
      if (dims.length > 0 && known.every((d) => Number.isFinite(d) && d > 0)) this.graph.shapes.set(input.name ?? '', known);
    }
  }

  shape(name: string | undefined): number[] | undefined {
    return name ? this.graph.shapes.get(name) : undefined;
  }

  constant(name: string | undefined): number[] | undefined {
    return name ? this.graph.constants.get(name) : undefined;
  }

  /** The node's output shapes and (for small integer results) values, or undefined when it cannot tell. */
  infer(node: OnnxTypes.INodeProto): { shape: number[]; values?: number[] } | undefined {
    const op = node.opType ?? '';
    const inputs = node.input ?? [];
    const x = this.shape(inputs[0]);
    if (op === 'Constant') {
      const tensor = tensorAttribute(node, 'value');
      if (!tensor) return undefined;
      return { shape: (tensor.dims ?? []).map((d) => int64ToNumber(d)), values: tensorValues(tensor) };
    }
    if (!x) return undefined;
    if (elementwiseUnary.has(op)) return { shape: x };
    if (elementwiseBinary.has(op)) {
      const shapes = inputs.map((i) => this.shape(i));
      return shapes.every((s) => s !== undefined) ? { shape: broadcast(shapes as number[][]) } : undefined;
    }
    switch (op) {
      case 'Conv': {
        const w = this.shape(inputs[1]);
        if (!w) return undefined;
        return { shape: windowShape(node, x, intsAttribute(node, 'kernel_shape') ?? w.slice(2), w[0] ?? 0) };
      }
      case 'MaxPool':
      case 'AveragePool':
      case 'LpPool':
        return { shape: windowShape(node, x, intsAttribute(node, 'kernel_shape') ?? [], x[1] ?? 0) };
      case 'GlobalAveragePool':
      case 'GlobalMaxPool':
        return { shape: [...x.slice(0, 2), ...x.slice(2).map(() => 1)] };
      case 'Pad': {
        const pads = this.graph.opset >= 11 ? this.constant(inputs[1]) : intsAttribute(node, 'pads');
        if (!pads) return undefined;
        return { shape: x.map((d, i) => d + (pads[i] ?? 0) + (pads[i + x.length] ?? 0)) };
      }
      case 'Flatten': {
        const axis = normaliseAxis(intAttribute(node, 'axis', 1), x.length);
        return { shape: [product(x.slice(0, axis)), product(x.slice(axis))] };
      }
      case 'Reshape': {
        const target = this.constant(inputs[1]);
        if (!target) return undefined;
        const dims = target.map((d, i) => (d === 0 && intAttribute(node, 'allowzero', 0) === 0 ? (x[i] ?? 0) : d));
        const known = product(dims.filter((d) => d !== -1));
        return { shape: dims.map((d) => (d === -1 ? product(x) / known : d)) };
      }
      case 'Gemm': {
        const b = this.shape(inputs[1]);
        if (!b) return undefined;
        const m = intAttribute(node, 'transA', 0) ? x[1] : x[0];
        const n = intAttribute(node, 'transB', 0) ? b[0] : b[1];
        return { shape: [m ?? 0, n ?? 0] };
      }
      case 'MatMul': {
        const b = this.shape(inputs[1]);
        if (!b || x.length < 2 || b.length < 2) return undefined;
        return { shape: [...broadcast([x.slice(0, -2), b.slice(0, -2)]), x.at(-2) ?? 0, b.at(-1) ?? 0] };
      }
      case 'Transpose': {
        const perm = intsAttribute(node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
        return { shape: perm.map((p) => x[p] ?? 0) };
      }
      case 'Squeeze':
      case 'Unsqueeze': {
        const axes = intsAttribute(node, 'axes') ?? this.constant(inputs[1]);
        const values = this.constant(inputs[0]);
        if (op === 'Squeeze') {
          const rank = x.length;
          const drop = new Set((axes ?? x.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normaliseAxis(a, rank)));
          return { shape: x.filter((_, i) => !drop.has(i)), values };
        }
        if (!axes) return undefined;
        const rank = x.length + axes.length;
        const added = new Set(axes.map((a) => normaliseAxis(a, rank)));
        const shape: number[] = [];
        for (let i = 0, j = 0; i < rank; i++) shape.push(added.has(i) ? 1 : (x[j++] ?? 0));
        return { shape, values };
      }
      case 'Concat': {
        const shapes = inputs.map((i) => this.shape(i));
        if (!shapes.every((s) => s !== undefined)) return undefined;
        const axis = normaliseAxis(intAttribute(node, 'axis', 0), x.length);
        const shape = [...x];
        shape[axis] = (shapes as number[][]).reduce((sum, s) => sum + (s[axis] ?? 0), 0);
        const parts = inputs.map((i) => this.constant(i));
        return { shape, values: parts.every((p) => p !== undefined) ? (parts as number[][]).flat() : undefined };
      }
      case 'Shape':
        return { shape: [x.length], values: x };
      case 'Gather': {
        const data = this.constant(inputs[0]);
        const index = this.constant(inputs[1]);
        const indexShape = this.shape(inputs[1]) ?? [];
        if (x.length === 1 && data && index) {
          const values = index.map((i) => data[normaliseAxis(i, data.length)] ?? 0);
          return { shape: indexShape, values };
        }
        const axis = normaliseAxis(intAttribute(node, 'axis', 0), x.length);
        return { shape: [...x.slice(0, axis), ...indexShape, ...x.slice(axis + 1)] };
      }
      case 'ReduceMean':
      case 'ReduceMax':
      case 'ReduceSum': {
        const axes = (intsAttribute(node, 'axes') ?? this.constant(inputs[1]) ?? x.map((_, i) => i)).map((a) => normaliseAxis(a, x.length));
        const keep = intAttribute(node, 'keepdims', 1) === 1;
        return { shape: keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i)) };
      }
      default:
        return undefined;
    }
  }

  run(): ShapedGraph {
    for (const node of this.graph.nodes) {
      const result = this.infer(node);
      const output = node.output?.[0];
      if (!result) {
        if ((node.input ?? []).every((i) => !i || this.graph.shapes.has(i) || this.graph.initializers.has(i))) this.graph.unsupportedOps.add(node.opType ?? '?');
        continue;
      }
      if (!output) continue;
      this.graph.shapes.set(output, result.shape);
      if (result.values && result.values.length <= 64) this.graph.constants.set(output, result.values);
    }
    return this.graph;
  }
}

export function inferShapes(model: OnnxTypes.IModelProto): ShapedGraph {
  return new ShapeInference(model).run();
}
