import { LabelqError } from '@labelq/shared/errors';
import type { KerasFunctionalModel, KerasLayer } from './tfjs-layers.ts';

/** The Keras functional graph as the converter walks it: layers in dependency order, with producers and consumers. */
export interface KerasGraph {
  ordered: KerasLayer[];
  /** Names of the layers whose output each layer reads. */
  inputsOf: Map<string, string[]>;
  /** Names of the layers that read each layer's output. */
  consumersOf: Map<string, KerasLayer[]>;
}

function refuse(message: string): LabelqError {
  return new LabelqError('MODEL_INVALID', message);
}

export function kerasGraph(model: KerasFunctionalModel): KerasGraph {
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  const inputsOf = new Map<string, string[]>();
  const consumersOf = new Map<string, KerasLayer[]>(model.layers.map((l) => [l.name, []]));
  for (const layer of model.layers) {
    if (layer.inbound_nodes.length > 1) {
      throw refuse(`The Keras layer ${layer.name} (${layer.class_name}) is called ${layer.inbound_nodes.length} times; shared layers are not supported.`);
    }
    const inbound = layer.inbound_nodes[0] ?? [];
    const names = inbound.map((entry) => {
      const [name, nodeIndex, tensorIndex] = entry;
      if (!byName.has(name)) throw refuse(`The Keras layer ${layer.name} reads from ${name}, which is not in the model.`);
      if (nodeIndex !== 0 || tensorIndex !== 0) throw refuse(`The Keras layer ${layer.name} reads output ${nodeIndex}/${tensorIndex} of ${name}; only single-output layers are supported.`);
      return name;
    });
    inputsOf.set(layer.name, names);
    for (const name of names) consumersOf.get(name)?.push(layer);
  }
  // Depth-first topological order (the listed order usually is one already; do not rely on it).
  const ordered: KerasLayer[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (layer: KerasLayer): void => {
    const seen = state.get(layer.name);
    if (seen === 'done') return;
    if (seen === 'visiting') throw refuse(`The Keras graph has a cycle through layer ${layer.name}.`);
    state.set(layer.name, 'visiting');
    for (const name of inputsOf.get(layer.name) ?? []) visit(byName.get(name) as KerasLayer);
    state.set(layer.name, 'done');
    ordered.push(layer);
  };
  for (const layer of model.layers) visit(layer);
  return { ordered, inputsOf, consumersOf };
}
