import type { SourceItem } from './checked-items.ts';

/** A URI left out because it came earlier in the same source. */
export interface DroppedDuplicate {
  uri: string;
  /** Line number of this occurrence, for manifests and standard input. */
  line: number | undefined;
}

/** Duplicates left out; only the first `shownDuplicates` are kept, `count` counts all. */
export interface DroppedDuplicates {
  count: number;
  first: DroppedDuplicate[];
}

export const shownDuplicates = 20;

export function emptyDropped(): DroppedDuplicates {
  return { count: 0, first: [] };
}

/**
 * V8 refuses more than 2^24 entries in one Set: a new Set is started when one is full, so a source of any
 * length can be deduplicated (each check then looks in every Set; one Set up to 16 million URIs). Memory grows
 * with the number of distinct URIs: the URI itself plus a few dozen bytes.
 */
export const urisPerSet = 16_000_000;

export class DistinctUris {
  private readonly sets: Set<string>[] = [new Set<string>()];
  private readonly perSet: number;
  size = 0;

  constructor(perSet = urisPerSet) {
    this.perSet = perSet;
  }

  /** True when the URI was not seen before (and remembers it). */
  add(uri: string): boolean {
    for (const set of this.sets) if (set.has(uri)) return false;
    let last = this.sets[this.sets.length - 1]!;
    if (last.size >= this.perSet) this.sets.push((last = new Set<string>()));
    last.add(uri);
    this.size += 1;
    return true;
  }
}

/**
 * The items of a source with repeated URIs left out: the first occurrence is kept (and keeps its place), later
 * ones are counted in `dropped`. URIs are compared exactly as written (`s3://b/a.jpg` and `s3://b//a.jpg` are
 * two URIs). So every distinct URI of a source is one item and gets exactly one record.
 */
export async function* distinctItemBatches(batches: AsyncIterable<SourceItem[]>, dropped: DroppedDuplicates): AsyncIterable<SourceItem[]> {
  const seen = new DistinctUris();
  for await (const batch of batches) {
    const kept: SourceItem[] = [];
    for (const item of batch) {
      if (seen.add(item.uri)) {
        kept.push(item);
      } else {
        dropped.count += 1;
        if (dropped.first.length < shownDuplicates) dropped.first.push({ uri: item.uri, line: item.line });
      }
    }
    if (kept.length > 0) yield kept;
  }
}

export function describeDuplicate(entry: DroppedDuplicate): string {
  return entry.line === undefined ? entry.uri : `line ${entry.line}: ${entry.uri}`;
}
