import { onnx, type OnnxTypes } from './onnx-proto.ts';

/** A dimension: a fixed size, or a symbolic name such as "N" for the batch. */
export type Dim = number | string;

export interface ConvSpec {
  /** Weights in ONNX order [outChannels, inChannels / group, kernelH, kernelW]. */
  weight: Float32Array;
  weightDims: [number, number, number, number];
  bias?: Float32Array;
  strides: [number, number];
  /** ONNX order: [top, left, bottom, right]. */
  pads: [number, number, number, number];
  dilations?: [number, number];
  group?: number;
}

export interface PoolSpec {
  kernel: [number, number];
  strides: [number, number];
  pads: [number, number, number, number];
}

export interface GemmSpec {
  /** Weights [inFeatures, outFeatures] (Keras Dense order; ONNX Gemm with transB = 0). */
  weight: Float32Array;
  inFeatures: number;
  outFeatures: number;
  bias?: Float32Array;
}

type Attribute = OnnxTypes.IAttributeProto;

export const defaultOpsetVersion = 17;

function intsAttribute(name: string, values: readonly number[]): Attribute {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...values] };
}
function intAttribute(name: string, value: number): Attribute {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}
function floatAttribute(name: string, value: number): Attribute {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value };
}

function valueInfo(name: string, dims: readonly Dim[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function bytesOf(data: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Builds an ONNX graph node by node: float32 weights go in as initializers with raw_data (little-endian, as
 * ONNX wants), tensors are named by the caller (layer names read well in tools such as Netron).
 * Shared by the Keras converter and the random ResNet50 builder.
 */
export class OnnxGraphBuilder {
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly initializers: OnnxTypes.ITensorProto[] = [];
  private readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly usedNames = new Set<string>();
  private readonly graphName: string;

  constructor(graphName: string) {
    this.graphName = graphName;
  }

  /** A tensor name not used yet, derived from `base`. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.usedNames.has(name); i++) name = `${base}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  addInput(name: string, dims: readonly Dim[]): string {
    this.usedNames.add(name);
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  /** Declares `tensor` a graph output under `name`, renaming the tensor everywhere it appears. */
  addOutput(tensor: string, name: string, dims: readonly Dim[]): void {
    if (tensor !== name) {
      if (this.usedNames.has(name)) throw new Error(`the output name ${name} is already used by another tensor`);
      for (const node of this.nodes) {
        node.input = node.input?.map((t) => (t === tensor ? name : t)) ?? null;
        node.output = node.output?.map((t) => (t === tensor ? name : t)) ?? null;
      }
      this.usedNames.add(name);
    }
    this.outputs.push(valueInfo(name, dims));
  }

  addInitializer(base: string, dims: readonly number[], data: Float32Array | BigInt64Array): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new Error(`initializer ${base} has ${data.length} values but its shape [${dims.join(', ')}] holds ${expected}`);
    }
    const name = this.uniqueName(base);
    const dataType = data instanceof Float32Array ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64;
    this.initializers.push({ name, dims: [...dims], dataType, rawData: bytesOf(data) });
    return name;
  }

  /** Adds one node with one output tensor named from `base`; returns that tensor's name. */
  addNode(opType: string, inputs: readonly string[], base: string, attribute: Attribute[] = []): string {
    const output = this.uniqueName(base);
    this.nodes.push({ opType, input: [...inputs], output: [output], name: output, attribute });
    return output;
  }

  conv(input: string, base: string, spec: ConvSpec): string {
    const weight = this.addInitializer(`${base}.weight`, spec.weightDims, spec.weight);
    const inputs = [input, weight];
    if (spec.bias) inputs.push(this.addInitializer(`${base}.bias`, [spec.weightDims[0]], spec.bias));
    return this.addNode('Conv', inputs, base, [
      intsAttribute('kernel_shape', [spec.weightDims[2], spec.weightDims[3]]),
      intsAttribute('strides', spec.strides),
      intsAttribute('pads', spec.pads),
      intsAttribute('dilations', spec.dilations ?? [1, 1]),
      intAttribute('group', spec.group ?? 1),
    ]);
  }

  /** Inference-mode batch normalisation over the channel axis (1), for when it cannot be folded. */
  batchNormalization(
    input: string,
    base: string,
    p: { gamma: Float32Array; beta: Float32Array; mean: Float32Array; variance: Float32Array; epsilon: number },
  ): string {
    const c = p.gamma.length;
    const inputs = [
      this.addInitializer(`${base}.gamma`, [c], p.gamma),
      this.addInitializer(`${base}.beta`, [c], p.beta),
      this.addInitializer(`${base}.mean`, [c], p.mean),
      this.addInitializer(`${base}.variance`, [c], p.variance),
    ];
    return this.addNode('BatchNormalization', [input, ...inputs], base, [floatAttribute('epsilon', p.epsilon)]);
  }

  maxPool(input: string, base: string, spec: PoolSpec): string {
    return this.addNode('MaxPool', [input], base, [
      intsAttribute('kernel_shape', spec.kernel),
      intsAttribute('strides', spec.strides),
      intsAttribute('pads', spec.pads),
    ]);
  }

  /** Average pool that leaves padded cells out of the mean (as TensorFlow's 'same' pooling does). */
  averagePool(input: string, base: string, spec: PoolSpec): string {
    return this.addNode('AveragePool', [input], base, [
      intsAttribute('kernel_shape', spec.kernel),
      intsAttribute('strides', spec.strides),
      intsAttribute('pads', spec.pads),
      intAttribute('count_include_pad', 0),
    ]);
  }

  /** Zero padding of the spatial axes of an NCHW tensor; pads in ONNX order [top, left, bottom, right]. */
  zeroPad(input: string, base: string, pads: [number, number, number, number]): string {
    const [top, left, bottom, right] = pads;
    const padsTensor = this.addInitializer(`${base}.pads`, [8], BigInt64Array.from([0, 0, top, left, 0, 0, bottom, right].map(BigInt)));
    return this.addNode('Pad', [input, padsTensor], base);
  }

  gemm(input: string, base: string, spec: GemmSpec): string {
    const inputs = [input, this.addInitializer(`${base}.weight`, [spec.inFeatures, spec.outFeatures], spec.weight)];
    if (spec.bias) inputs.push(this.addInitializer(`${base}.bias`, [spec.outFeatures], spec.bias));
    return this.addNode('Gemm', inputs, base, [intAttribute('transB', 0)]);
  }

  unary(opType: 'Relu' | 'Sigmoid' | 'Tanh' | 'GlobalAveragePool' | 'GlobalMaxPool', input: string, base: string): string {
    return this.addNode(opType, [input], base);
  }

  add(inputs: readonly string[], base: string): string {
    let sum = inputs[0];
    if (sum === undefined || inputs.length < 2) throw new Error(`Add ${base} needs at least two inputs`);
    for (let i = 1; i < inputs.length; i++) {
      sum = this.addNode('Add', [sum, inputs[i] as string], i === inputs.length - 1 ? base : `${base}_partial`);
    }
    return sum;
  }

  flatten(input: string, base: string): string {
    return this.addNode('Flatten', [input], base, [intAttribute('axis', 1)]);
  }

  transpose(input: string, base: string, perm: readonly number[]): string {
    return this.addNode('Transpose', [input], base, [intsAttribute('perm', perm)]);
  }

  softmax(input: string, base: string, axis: number): string {
    return this.addNode('Softmax', [input], base, [intAttribute('axis', axis)]);
  }

  /** The serialised ModelProto. */
  encode(meta: { producerName: string; docString?: string; metadata?: Record<string, string>; opsetVersion?: number }): Uint8Array {
    const model: OnnxTypes.IModelProto = {
      irVersion: 8,
      opsetImport: [{ domain: '', version: meta.opsetVersion ?? defaultOpsetVersion }],
      producerName: meta.producerName,
      producerVersion: '1',
      docString: meta.docString ?? '',
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(meta.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
    return onnx.ModelProto.encode(model).finish();
  }
}
