import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LabelqError } from '@labelq/shared/errors';

/** One inbound connection of a Keras layer: [layerName, nodeIndex, tensorIndex, kwargs]. */
export type KerasInbound = [string, number, number, Record<string, unknown>?];

export interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  /** One list per call of the layer; functional ResNet50 calls each layer once. */
  inbound_nodes: KerasInbound[][];
}

export interface KerasFunctionalModel {
  name: string;
  layers: KerasLayer[];
  input_layers: [string, number, number][];
  output_layers: [string, number, number][];
}

export interface TfjsLayersModel {
  format: string;
  generatedBy: string;
  convertedBy: string;
  model: KerasFunctionalModel;
  /** Weights by their manifest name, e.g. "conv1/kernel", with their shapes. */
  weights: Map<string, { shape: number[]; values: Float32Array }>;
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology?: { model_config?: { class_name?: string; config?: KerasFunctionalModel } };
  weightsManifest?: { paths: string[]; weights: ManifestEntry[] }[];
}

function invalid(file: string, problem: string): LabelqError {
  return new LabelqError('MODEL_INVALID', `The TF.js layers model ${file} cannot be read: ${problem}`);
}

/** Reads one weight group: its shards laid end to end hold the weights in manifest order. */
async function readGroup(dir: string, modelFile: string, group: { paths: string[]; weights: ManifestEntry[] }, into: TfjsLayersModel['weights']): Promise<void> {
  const shards = await Promise.all(group.paths.map((p) => readFile(path.join(dir, p))));
  const bytes = Buffer.concat(shards);
  let offset = 0;
  for (const entry of group.weights) {
    if (entry.dtype !== 'float32' || entry.quantization !== undefined) {
      throw invalid(modelFile, `weight ${entry.name} is ${entry.quantization ? 'quantised' : entry.dtype}; only unquantised float32 weights are supported.`);
    }
    const count = entry.shape.reduce((a, b) => a * b, 1);
    const byteLength = count * 4;
    if (offset + byteLength > bytes.length) {
      throw invalid(modelFile, `weight ${entry.name} runs past the end of its shards (${bytes.length} bytes).`);
    }
    // Copy into an aligned array of its own (shard boundaries do not respect 4-byte alignment of the pool).
    const values = new Float32Array(count);
    new Uint8Array(values.buffer).set(bytes.subarray(offset, offset + byteLength));
    into.set(entry.name, { shape: entry.shape, values });
    offset += byteLength;
  }
  if (offset !== bytes.length) throw invalid(modelFile, `its shards hold ${bytes.length - offset} bytes more than the manifest lists.`);
}

/** Reads a TF.js "layers-model" (model.json, Keras functional topology, weight shards beside it). */
export async function readTfjsLayersModel(modelJsonPath: string): Promise<TfjsLayersModel> {
  const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as ModelJson;
  if (json.format !== 'layers-model') throw invalid(modelJsonPath, `its format is ${String(json.format)}, not layers-model.`);
  const config = json.modelTopology?.model_config;
  if (config?.class_name !== 'Model' && config?.class_name !== 'Functional') {
    throw invalid(modelJsonPath, `its topology is a ${String(config?.class_name)}, not a functional Keras Model.`);
  }
  if (!config.config || !Array.isArray(config.config.layers)) throw invalid(modelJsonPath, 'its topology lists no layers.');
  const weights: TfjsLayersModel['weights'] = new Map();
  for (const group of json.weightsManifest ?? []) await readGroup(path.dirname(modelJsonPath), modelJsonPath, group, weights);
  return {
    format: json.format,
    generatedBy: json.generatedBy ?? '',
    convertedBy: json.convertedBy ?? '',
    model: config.config,
    weights,
  };
}
