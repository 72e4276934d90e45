import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ResultRecord } from '@labelq/shared/record';

export interface Accuracy {
  images: number;
  matched: number;
  top1: number;
  top5: number;
}

/**
 * Compares records with a ground-truth TSV (file name, class index, ...), as shipped beside labelled sample
 * sets: a record counts when its URI's file name is in the table.
 */
export async function accuracyAgainst(truthTsv: string, records: readonly ResultRecord[]): Promise<Accuracy> {
  const truth = new Map<string, number>();
  for (const line of (await readFile(truthTsv, 'utf8')).split('\n')) {
    const [file, index] = line.split('\t');
    if (file === undefined || index === undefined || !/^\d+$/.test(index)) continue;
    truth.set(file, Number(index));
  }
  let matched = 0;
  let top1 = 0;
  let top5 = 0;
  for (const record of records) {
    const expected = truth.get(basename(decodeURIComponent(record.uri)));
    if (expected === undefined) continue;
    matched++;
    if ('error' in record) continue;
    if (record.top[0]?.index === expected) top1++;
    if (record.top.slice(0, 5).some((entry) => entry.index === expected)) top5++;
  }
  return { images: records.length, matched, top1: matched === 0 ? 0 : top1 / matched, top5: matched === 0 ? 0 : top5 / matched };
}
