import { readFile } from 'node:fs/promises';
import { LabelqError } from '@labelq/shared/errors';
import { int64ToNumber, onnx, type OnnxTypes } from './onnx-proto.ts';

/** A graph input or output: its name and dimensions (a number, a symbolic name, or null when unknown). */
export interface TensorSignature {
  name: string;
  dims: (number | string | null)[];
  elemType: number;
}

export async function readOnnxModel(onnxPath: string): Promise<OnnxTypes.ModelProto> {
  const bytes = await readFile(onnxPath).catch((error: unknown) => {
    throw new LabelqError('MODEL_INVALID', `Cannot read the ONNX model ${onnxPath}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  });
  try {
    const model = onnx.ModelProto.decode(bytes);
    if (!model.graph) throw new Error('it has no graph');
    return model;
  } catch (error) {
    throw new LabelqError('MODEL_INVALID', `The file ${onnxPath} is not an ONNX model: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function signature(info: OnnxTypes.IValueInfoProto): TensorSignature {
  const tensorType = info.type?.tensorType;
  const dims = (tensorType?.shape?.dim ?? []).map((d) => {
    if (d.dimParam) return d.dimParam;
    if (d.dimValue !== null && d.dimValue !== undefined) return int64ToNumber(d.dimValue);
    return null;
  });
  return { name: info.name ?? '', dims, elemType: tensorType?.elemType ?? 0 };
}

/** The inputs a caller feeds: graph inputs that are not initializers (older exports list weights as inputs too). */
export function graphInputs(model: OnnxTypes.IModelProto): TensorSignature[] {
  const initializers = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  return (model.graph?.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map(signature);
}

export function graphOutputs(model: OnnxTypes.IModelProto): TensorSignature[] {
  return (model.graph?.output ?? []).map(signature);
}

export function formatDims(dims: readonly (number | string | null)[]): string {
  return `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}
