import { LabelqError } from '@labelq/shared/errors';
import { foldBatchNorm, hwioToOihw, type BatchNormParams } from './conv-weights.ts';
import { kerasGraph, type KerasGraph } from './keras-graph.ts';
import { OnnxGraphBuilder } from './onnx-graph-builder.ts';
import { addPads, tfPads, windowOutputSize, zeroPaddingPads, type Pads } from './tf-padding.ts';
import type { KerasLayer, TfjsLayersModel } from './tfjs-layers.ts';

/**
 * Converts a Keras functional model (TF.js layers format, channels-last) into an ONNX graph with an NCHW input.
 * Batch normalisation is folded into the convolution before it; zero padding is folded into the pads of the
 * convolution or max-pool after it where that is exact; kernels go from HWIO to OIHW.
 */
export interface KerasToOnnxOptions {
  inputName?: string;
  outputName?: string;
  batchDim?: string;
  graphName?: string;
}

export interface KerasToOnnxResult {
  onnxBytes: Uint8Array;
  inputName: string;
  outputName: string;
  /** [C, H, W] of one image. */
  inputShape: [number, number, number];
  outputShape: number[];
  outputKind: 'probabilities' | 'logits';
  notes: string[];
}

/** A tensor as the walk sees it: ONNX name, shape without the batch axis, and facts used by the folds. */
interface Value {
  tensor: string;
  /** [C, H, W] for images, [F] for features. */
  shape: number[];
  /** Every element is >= 0 (after ReLU or softmax): zero padding then max-pool equals max-pool with pads. */
  nonNegative: boolean;
  /** Zero padding not emitted yet: a consumer folds it into its own pads, or materialises it. */
  pendingPads?: Pads;
}

function refuse(layer: KerasLayer, problem: string): LabelqError {
  return new LabelqError('MODEL_INVALID', `Cannot convert Keras layer ${layer.name} (${layer.class_name}): ${problem}`);
}

function pair(value: unknown, layer: KerasLayer, field: string): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) return [value[0] as number, value[1] as number];
  throw refuse(layer, `its ${field} ${JSON.stringify(value)} is not a pair of numbers.`);
}

class KerasConverter {
  readonly builder: OnnxGraphBuilder;
  readonly values = new Map<string, Value>();
  readonly foldedBatchNorms = new Set<string>();
  readonly notes: string[] = [];
  readonly paddingFolds: string[] = [];
  foldedBatchNormCount = 0;
  epsilons = new Set<number>();
  private readonly model: TfjsLayersModel;
  private readonly graph: KerasGraph;
  private readonly options: Required<KerasToOnnxOptions>;

  constructor(model: TfjsLayersModel, graph: KerasGraph, options: Required<KerasToOnnxOptions>) {
    this.model = model;
    this.graph = graph;
    this.options = options;
    this.builder = new OnnxGraphBuilder(options.graphName);
  }

  weight(layer: KerasLayer, param: string): { shape: number[]; values: Float32Array } {
    const found = this.model.weights.get(`${layer.name}/${param}`);
    if (!found) throw refuse(layer, `the weight ${layer.name}/${param} is missing from the weights manifest.`);
    return found;
  }

  input(layer: KerasLayer, index = 0): Value {
    const name = this.graph.inputsOf.get(layer.name)?.[index];
    const value = name === undefined ? undefined : this.values.get(name);
    if (!value) throw refuse(layer, `its input ${index} is missing.`);
    return value;
  }

  /** Emits any pending zero padding as a Pad node. */
  materialise(value: Value, consumer: KerasLayer): Value {
    if (!value.pendingPads) return value;
    const tensor = this.builder.zeroPad(value.tensor, `${consumer.name}_zero_pad`, value.pendingPads);
    const [c, h, w] = value.shape as [number, number, number];
    const [t, l, b, r] = value.pendingPads;
    this.notes.push(`zero padding before ${consumer.name} kept as a Pad node`);
    return { tensor, shape: [c, h + t + b, w + l + r], nonNegative: value.nonNegative };
  }

  image(value: Value, layer: KerasLayer): [number, number, number] {
    if (value.shape.length !== 3) throw refuse(layer, `it needs an image-shaped input but got [${value.shape.join(', ')}].`);
    return value.shape as [number, number, number];
  }

  checkChannelsLast(layer: KerasLayer): void {
    const format = layer.config['data_format'];
    if (format !== undefined && format !== 'channels_last') throw refuse(layer, `data_format ${String(format)} is not supported (only channels_last).`);
  }

  batchNormParams(layer: KerasLayer): BatchNormParams {
    const config = layer.config;
    const axis = config['axis'];
    const axisOk = axis === -1 || axis === 3 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === 3 || axis[0] === -1));
    if (!axisOk) throw refuse(layer, `normalising over axis ${JSON.stringify(axis)} is not supported (only the channel axis).`);
    const epsilon = config['epsilon'];
    if (typeof epsilon !== 'number') throw refuse(layer, 'its epsilon is missing from model.json.');
    this.epsilons.add(epsilon);
    const mean = this.weight(layer, 'moving_mean').values;
    const ones = new Float32Array(mean.length).fill(1);
    const zeros = new Float32Array(mean.length);
    return {
      gamma: config['scale'] === false ? ones : this.weight(layer, 'gamma').values,
      beta: config['center'] === false ? zeros : this.weight(layer, 'beta').values,
      mean,
      variance: this.weight(layer, 'moving_variance').values,
      epsilon,
    };
  }

  activation(value: Value, activation: unknown, layer: KerasLayer): Value {
    const base = layer.name;
    switch (activation) {
      case undefined:
      case 'linear':
        return value;
      case 'relu':
        return { ...value, tensor: this.builder.unary('Relu', value.tensor, `${base}_relu`), nonNegative: true };
      case 'sigmoid':
        return { ...value, tensor: this.builder.unary('Sigmoid', value.tensor, `${base}_sigmoid`), nonNegative: true };
      case 'tanh':
        return { ...value, tensor: this.builder.unary('Tanh', value.tensor, `${base}_tanh`), nonNegative: false };
      case 'softmax':
        // Keras softmax works on the last (channel) axis: axis 1 in NCHW, or the feature axis of [N, F].
        return { ...value, tensor: this.builder.softmax(value.tensor, `${base}_softmax`, 1), nonNegative: true };
      default:
        throw refuse(layer, `the activation ${JSON.stringify(activation)} is not supported (linear, relu, sigmoid, tanh, softmax are).`);
    }
  }

  conv2d(layer: KerasLayer): Value {
    this.checkChannelsLast(layer);
    const config = layer.config;
    const input = this.input(layer);
    const [, h, w] = this.image(input, layer);
    const strides = pair(config['strides'] ?? 1, layer, 'strides');
    const dilations = pair(config['dilation_rate'] ?? 1, layer, 'dilation_rate');
    const kernel = this.weight(layer, 'kernel');
    const { weight, dims } = hwioToOihw(kernel.values, kernel.shape);
    const padding = config['padding'];
    if (padding !== 'same' && padding !== 'valid') throw refuse(layer, `padding ${String(padding)} is not supported.`);
    const pending = input.pendingPads ?? [0, 0, 0, 0];
    const padded: [number, number] = [h + pending[0] + pending[2], w + pending[1] + pending[3]];
    const pads = addPads(pending, tfPads(padding, padded, [dims[2], dims[3]], strides, dilations));
    if (input.pendingPads) this.paddingFolds.push(`${layer.name} (Conv)`);
    let bias = config['use_bias'] === false ? undefined : this.weight(layer, 'bias').values;
    let weights = weight;
    let base = layer.name;
    const consumers = this.graph.consumersOf.get(layer.name) ?? [];
    const bn = consumers.length === 1 && consumers[0]?.class_name === 'BatchNormalization' ? consumers[0] : undefined;
    const activation = config['activation'] ?? 'linear';
    if (bn && activation === 'linear') {
      const folded = foldBatchNorm(weights, bias, this.batchNormParams(bn));
      weights = folded.weight;
      bias = folded.bias;
      base = bn.name;
      this.foldedBatchNorms.add(bn.name);
      this.foldedBatchNormCount++;
    }
    const tensor = this.builder.conv(input.tensor, base, { weight: weights, weightDims: dims, bias, strides, pads, dilations });
    const outH = windowOutputSize(h, dims[2], strides[0], pads[0] + pads[2], dilations[0]);
    const outW = windowOutputSize(w, dims[3], strides[1], pads[1] + pads[3], dilations[1]);
    return this.activation({ tensor, shape: [dims[0], outH, outW], nonNegative: false }, activation, layer);
  }

  pool(layer: KerasLayer, kind: 'max' | 'average'): Value {
    this.checkChannelsLast(layer);
    const config = layer.config;
    let input = this.input(layer);
    // Zero padding folds into max-pool pads only when the input is non-negative (ONNX pads act as -inf there).
    if (input.pendingPads && !(kind === 'max' && input.nonNegative)) input = this.materialise(input, layer);
    const [c, h, w] = this.image(input, layer);
    const kernel = pair(config['pool_size'] ?? 2, layer, 'pool_size');
    const strides = pair(config['strides'] ?? kernel, layer, 'strides');
    const padding = config['padding'];
    if (padding !== 'same' && padding !== 'valid') throw refuse(layer, `padding ${String(padding)} is not supported.`);
    const pending = input.pendingPads ?? [0, 0, 0, 0];
    const padded: [number, number] = [h + pending[0] + pending[2], w + pending[1] + pending[3]];
    const pads = addPads(pending, tfPads(padding, padded, kernel, strides));
    if (input.pendingPads) this.paddingFolds.push(`${layer.name} (MaxPool after a non-negative input)`);
    const spec = { kernel, strides, pads };
    const tensor = kind === 'max' ? this.builder.maxPool(input.tensor, layer.name, spec) : this.builder.averagePool(input.tensor, layer.name, spec);
    const shape = [c, windowOutputSize(h, kernel[0], strides[0], pads[0] + pads[2]), windowOutputSize(w, kernel[1], strides[1], pads[1] + pads[3])];
    return { tensor, shape, nonNegative: input.nonNegative };
  }

  globalPool(layer: KerasLayer, kind: 'GlobalAveragePool' | 'GlobalMaxPool'): Value {
    this.checkChannelsLast(layer);
    const input = this.materialise(this.input(layer), layer);
    const [c] = this.image(input, layer);
    const pooled = this.builder.unary(kind, input.tensor, `${layer.name}_pool`);
    if (layer.config['keepdims'] === true) return { tensor: pooled, shape: [c, 1, 1], nonNegative: input.nonNegative };
    return { tensor: this.builder.flatten(pooled, layer.name), shape: [c], nonNegative: input.nonNegative };
  }

  flatten(layer: KerasLayer): Value {
    const input = this.materialise(this.input(layer), layer);
    const size = input.shape.reduce((a, b) => a * b, 1);
    let tensor = input.tensor;
    // Keras flattens channels-last: put the channels last first, unless there is only one spatial position.
    if (input.shape.length === 3 && size !== input.shape[0]) tensor = this.builder.transpose(tensor, `${layer.name}_nhwc`, [0, 2, 3, 1]);
    return { tensor: this.builder.flatten(tensor, layer.name), shape: [size], nonNegative: input.nonNegative };
  }

  dense(layer: KerasLayer): Value {
    const input = this.input(layer);
    if (input.shape.length !== 1) throw refuse(layer, `it needs a flat input but got [${input.shape.join(', ')}]; add a Flatten layer.`);
    const kernel = this.weight(layer, 'kernel');
    const [inFeatures, outFeatures] = kernel.shape as [number, number];
    if (inFeatures !== input.shape[0]) throw refuse(layer, `its kernel expects ${inFeatures} features but its input has ${input.shape[0]}.`);
    const bias = layer.config['use_bias'] === false ? undefined : this.weight(layer, 'bias').values;
    const tensor = this.builder.gemm(input.tensor, layer.name, { weight: kernel.values, inFeatures, outFeatures, bias });
    return this.activation({ tensor, shape: [outFeatures], nonNegative: false }, layer.config['activation'], layer);
  }

  add(layer: KerasLayer): Value {
    const names = this.graph.inputsOf.get(layer.name) ?? [];
    const inputs = names.map((_, i) => this.materialise(this.input(layer, i), layer));
    const shape = inputs[0]?.shape ?? [];
    for (const value of inputs) {
      if (value.shape.join() !== shape.join()) throw refuse(layer, `its inputs have different shapes ([${shape.join(', ')}] and [${value.shape.join(', ')}]).`);
    }
    return { tensor: this.builder.add(inputs.map((v) => v.tensor), layer.name), shape, nonNegative: inputs.every((v) => v.nonNegative) };
  }

  convert(layer: KerasLayer): Value {
    switch (layer.class_name) {
      case 'InputLayer':
        throw refuse(layer, 'the model has more than one input.');
      case 'ZeroPadding2D': {
        this.checkChannelsLast(layer);
        const input = this.input(layer);
        this.image(input, layer);
        return { ...input, pendingPads: addPads(input.pendingPads ?? [0, 0, 0, 0], zeroPaddingPads(layer.config['padding'])) };
      }
      case 'Conv2D':
        return this.conv2d(layer);
      case 'BatchNormalization': {
        if (this.foldedBatchNorms.has(layer.name)) return this.input(layer);
        const input = this.materialise(this.input(layer), layer);
        return { ...input, tensor: this.builder.batchNormalization(input.tensor, layer.name, this.batchNormParams(layer)), nonNegative: false };
      }
      case 'Activation':
        return this.activation(this.materialise(this.input(layer), layer), layer.config['activation'], layer);
      case 'ReLU':
        if (layer.config['max_value'] != null || Number(layer.config['negative_slope'] ?? 0) !== 0 || Number(layer.config['threshold'] ?? 0) !== 0) {
          throw refuse(layer, 'ReLU with max_value, negative_slope or threshold is not supported.');
        }
        return this.activation(this.materialise(this.input(layer), layer), 'relu', layer);
      case 'Softmax':
        return this.activation(this.materialise(this.input(layer), layer), 'softmax', layer);
      case 'MaxPooling2D':
        return this.pool(layer, 'max');
      case 'AveragePooling2D':
        return this.pool(layer, 'average');
      case 'GlobalAveragePooling2D':
        return this.globalPool(layer, 'GlobalAveragePool');
      case 'GlobalMaxPooling2D':
        return this.globalPool(layer, 'GlobalMaxPool');
      case 'Flatten':
        return this.flatten(layer);
      case 'Dense':
        return this.dense(layer);
      case 'Add':
        return this.add(layer);
      case 'Dropout':
        return this.input(layer);
      default:
        throw refuse(layer, `the layer type ${layer.class_name} is not supported.`);
    }
  }

  inputLayer(layer: KerasLayer): [number, number, number] {
    const shape = layer.config['batch_input_shape'] ?? layer.config['batch_shape'];
    if (!Array.isArray(shape) || shape.length !== 4 || !shape.slice(1).every((d) => typeof d === 'number')) {
      throw refuse(layer, `its input shape ${JSON.stringify(shape)} is not [batch, height, width, channels] with fixed sizes.`);
    }
    const [, h, w, c] = shape as [unknown, number, number, number];
    this.builder.addInput(this.options.inputName, [this.options.batchDim, c, h, w]);
    this.values.set(layer.name, { tensor: this.options.inputName, shape: [c, h, w], nonNegative: false });
    return [c, h, w];
  }
}

export function convertKerasToOnnx(model: TfjsLayersModel, options: KerasToOnnxOptions = {}): KerasToOnnxResult {
  const resolved: Required<KerasToOnnxOptions> = {
    inputName: options.inputName ?? 'input',
    outputName: options.outputName ?? 'probabilities',
    batchDim: options.batchDim ?? 'N',
    graphName: options.graphName ?? model.model.name,
  };
  const graph = kerasGraph(model.model);
  const inputLayers = model.model.input_layers;
  const outputLayers = model.model.output_layers;
  if (inputLayers.length !== 1 || outputLayers.length !== 1) {
    throw new LabelqError('MODEL_INVALID', `The Keras model ${model.model.name} has ${inputLayers.length} inputs and ${outputLayers.length} outputs; one of each is supported.`);
  }
  const converter = new KerasConverter(model, graph, resolved);
  let inputShape: [number, number, number] | undefined;
  let lastActivation: unknown;
  for (const layer of graph.ordered) {
    if (layer.name === inputLayers[0]?.[0]) {
      inputShape = converter.inputLayer(layer);
      continue;
    }
    converter.values.set(layer.name, converter.convert(layer));
    lastActivation = layer.class_name === 'Softmax' ? 'softmax' : layer.config['activation'];
  }
  const outputLayer = outputLayers[0]?.[0] ?? '';
  const output = converter.values.get(outputLayer);
  if (!output || !inputShape) throw new LabelqError('MODEL_INVALID', `The Keras model ${model.model.name} has no path from its input to ${outputLayer}.`);
  if (output.pendingPads) throw new LabelqError('MODEL_INVALID', `The Keras model ${model.model.name} ends in zero padding.`);
  converter.builder.addOutput(output.tensor, resolved.outputName, [resolved.batchDim, ...output.shape]);
  const outputKind = lastActivation === 'softmax' ? 'probabilities' : 'logits';
  const epsilons = [...converter.epsilons].join(', ');
  const notes = [
    `input NHWC -> NCHW [${resolved.batchDim}, ${inputShape.join(', ')}]; kernels HWIO -> OIHW`,
    `${converter.foldedBatchNormCount} BatchNormalization layers folded into the convolution before them (epsilon ${epsilons} from model.json)`,
    ...(converter.paddingFolds.length > 0 ? [`ZeroPadding2D folded into the pads of ${converter.paddingFolds.join(', ')}`] : []),
    ...converter.notes,
  ];
  const onnxBytes = converter.builder.encode({
    producerName: 'labelq convert-keras',
    docString: `Converted from Keras ${model.generatedBy} via ${model.convertedBy}.`,
  });
  return { onnxBytes, inputName: resolved.inputName, outputName: resolved.outputName, inputShape, outputShape: output.shape, outputKind, notes };
}
