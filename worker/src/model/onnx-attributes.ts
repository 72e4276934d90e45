import { int64ToNumber, onnx, type OnnxTypes } from './onnx-proto.ts';

/** Reading ONNX node attributes and small constant tensors (shapes, pads, axes) as plain numbers. */

function attribute(node: OnnxTypes.INodeProto, name: string): OnnxTypes.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function intAttribute(node: OnnxTypes.INodeProto, name: string, fallback: number): number {
  const found = attribute(node, name);
  return found?.i === undefined || found.i === null ? fallback : int64ToNumber(found.i);
}

export function intsAttribute(node: OnnxTypes.INodeProto, name: string): number[] | undefined {
  const found = attribute(node, name);
  return found?.ints && found.ints.length > 0 ? found.ints.map((v) => int64ToNumber(v)) : undefined;
}

export function stringAttribute(node: OnnxTypes.INodeProto, name: string, fallback: string): string {
  const found = attribute(node, name);
  return found?.s && found.s.length > 0 ? Buffer.from(found.s).toString('utf8') : fallback;
}

export function tensorAttribute(node: OnnxTypes.INodeProto, name: string): OnnxTypes.ITensorProto | undefined {
  return attribute(node, name)?.t ?? undefined;
}

export function tensorElementCount(tensor: OnnxTypes.ITensorProto): number {
  return (tensor.dims ?? []).reduce<number>((a, d) => a * int64ToNumber(d), 1);
}

/** The values of an integer or float tensor, as numbers (for shapes, pads, axes and other small tensors). */
export function tensorValues(tensor: OnnxTypes.ITensorProto): number[] | undefined {
  const type = onnx.TensorProto.DataType;
  const raw = tensor.rawData && tensor.rawData.length > 0 ? tensor.rawData : undefined;
  const copy = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer;
  switch (tensor.dataType) {
    case type.INT64:
      if (raw) return Array.from(new BigInt64Array(copy(raw)), Number);
      return (tensor.int64Data ?? []).map((v) => int64ToNumber(v));
    case type.INT32:
      if (raw) return Array.from(new Int32Array(copy(raw)));
      return [...(tensor.int32Data ?? [])];
    case type.FLOAT:
      if (raw) return Array.from(new Float32Array(copy(raw)));
      return [...(tensor.floatData ?? [])];
    default:
      return undefined;
  }
}

export function isFloatTensor(tensor: OnnxTypes.ITensorProto): boolean {
  const type = onnx.TensorProto.DataType;
  return tensor.dataType === type.FLOAT || tensor.dataType === type.FLOAT16 || tensor.dataType === type.BFLOAT16 || tensor.dataType === type.DOUBLE;
}
