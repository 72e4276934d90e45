import type { ModelCard, ModelIdentity } from '@labelq/shared/model-card';
import type { ErrorRecord, LabelRecord } from '@labelq/shared/record';
import type { ImageAnswer } from './batcher.ts';

/** Builds the records of one item: labels from the model's answer, or an error with its stable code. */
export function labelRecord(uri: string, run: string, model: ModelIdentity, card: ModelCard, answer: ImageAnswer): LabelRecord {
  const top = Array.from(answer.indices, (index, i) => {
    const label = card.labels[index];
    return { index, wnid: label?.wnid ?? '', label: label?.label ?? String(index), p: roundProbability(answer.probabilities[i]!) };
  });
  return { uri, run, model: { name: model.name, sha256: model.sha256 }, top };
}

export function errorRecord(uri: string, run: string, model: ModelIdentity, code: string, message: string): ErrorRecord {
  return { uri, run, model: { name: model.name, sha256: model.sha256 }, error: { code, message } };
}

/** Six significant digits keep the JSON small and are far below the model's own noise. */
function roundProbability(p: number): number {
  return Number(p.toPrecision(6));
}

/** One JSON object per line, each line complete; the whole object is written at once by the store. */
export function toJsonLines(records: readonly (LabelRecord | ErrorRecord)[]): string {
  return records.map((record) => JSON.stringify(record)).join('\n') + '\n';
}
