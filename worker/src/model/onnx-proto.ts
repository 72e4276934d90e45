import onnxProto from 'onnx-proto';

/**
 * The ONNX protobuf classes (onnx-proto: protobufjs 6 static code for ONNX v1.10, IR version 8), re-exported
 * once so the other model files share one import and one way to read int64 fields.
 */
export const { onnx } = onnxProto;
export type { onnx as OnnxTypes } from 'onnx-proto';

/** protobufjs decodes int64 fields as Long objects when the `long` package is present, as numbers otherwise. */
export function int64ToNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}
