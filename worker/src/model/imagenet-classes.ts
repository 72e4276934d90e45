import { readFile } from 'node:fs/promises';
import type { ModelCard } from '@labelq/shared/model-card';

/** The ImageNet-1k classes in the standard order, shipped beside this file (a copy of shared/data/imagenet1k_classes.tsv). */
export const imagenetClassesFile = new URL('./imagenet1k-classes.tsv', import.meta.url);

export type ClassLabel = ModelCard['labels'][number];

/** Reads the TSV (index, wnid, keras_label, wordnet_words) into card labels; the short Keras label is the label. */
export async function readImagenetClasses(file: URL | string = imagenetClassesFile): Promise<ClassLabel[]> {
  const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  const labels = lines.slice(1).map((line, row) => {
    const [index, wnid, label] = line.split('\t');
    if (Number(index) !== row || !wnid || !label) throw new Error(`${String(file)} line ${row + 2} is not "index<TAB>wnid<TAB>label" in order: ${line}`);
    return { index: row, wnid, label };
  });
  if (labels.length !== 1000) throw new Error(`${String(file)} lists ${labels.length} classes, not 1000`);
  return labels;
}
