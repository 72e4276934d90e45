import { stat } from 'node:fs/promises';
import path from 'node:path';
import { isFloatTensor, tensorElementCount } from './onnx-attributes.ts';
import { graphInputs, graphOutputs, readOnnxModel, type TensorSignature } from './onnx-model-file.ts';
import { inferShapes } from './onnx-shape-inference.ts';
import { findNetworkStructure, type NetworkStructure } from './network-structure.ts';
import { resnet50Differences } from './resnet50-verdict.ts';

export { formatInspectReport } from './inspect-format.ts';

/** What `labelq model inspect` finds in an .onnx file. */
export interface InspectReport {
  file: string;
  sizeBytes: number;
  opset: number;
  producer: string;
  input: TensorSignature | undefined;
  output: TensorSignature | undefined;
  /** Last dimension of the output, when known. */
  classes: number | undefined;
  /** Elements of all floating-point initializers (weights and biases). */
  parameters: number;
  /** Multiply-accumulates of the convolutions and fully connected layers for one image. */
  macsPerImage: number;
  opCounts: Record<string, number>;
  structure: NetworkStructure;
  /** Op types whose output shape this inspector could not work out (their tensors stay without a shape). */
  unsupportedOps: string[];
  isResnet50: boolean;
  /** Why it is not a ResNet50, one sentence each; empty when it is one. */
  differences: string[];
}

export async function inspectOnnxModel(onnxPath: string): Promise<InspectReport> {
  const model = await readOnnxModel(onnxPath);
  const graph = inferShapes(model);
  const structure = findNetworkStructure(graph);
  const input = graphInputs(model)[0];
  const output = graphOutputs(model)[0];
  const outputShape = output ? graph.shapes.get(output.name) : undefined;
  const lastDim = output?.dims.at(-1);
  const classes = typeof lastDim === 'number' ? lastDim : outputShape?.at(-1);
  const opCounts: Record<string, number> = {};
  for (const node of graph.nodes) opCounts[node.opType ?? '?'] = (opCounts[node.opType ?? '?'] ?? 0) + 1;
  const parameters = [...graph.initializers.values()].filter(isFloatTensor).reduce((sum, t) => sum + tensorElementCount(t), 0);
  const differences = resnet50Differences(input, output, structure, classes);
  return {
    file: path.resolve(onnxPath),
    sizeBytes: (await stat(onnxPath)).size,
    opset: graph.opset,
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    input,
    output,
    classes,
    parameters,
    macsPerImage: structure.totalMacs,
    opCounts,
    structure,
    unsupportedOps: [...graph.unsupportedOps],
    isResnet50: differences.length === 0,
    differences,
  };
}

