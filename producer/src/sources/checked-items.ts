import { isLabelqError, LabelqError } from '@labelq/shared/errors';
import { parseItemUri } from '@labelq/shared/uri';
import type { Source, SourceEntry } from './source-types.ts';

/** One item URI that passed the checks. */
export interface SourceItem {
  uri: string;
  line?: number;
}

export interface InvalidEntry {
  /** Line number in a manifest or standard input; undefined for names found in a folder or S3 prefix. */
  line: number | undefined;
  uri: string;
  reason: string;
}

/** Entries left out; only the first `shownInvalidEntries` are kept, `count` counts all. */
export interface SkippedEntries {
  count: number;
  first: InvalidEntry[];
}

export const shownInvalidEntries = 20;

export function emptySkipped(): SkippedEntries {
  return { count: 0, first: [] };
}

/** Why the entry cannot be enqueued, or undefined when it can. */
export function problemOf(entry: SourceEntry): string | undefined {
  if (entry.problem !== undefined) return entry.problem;
  try {
    parseItemUri(entry.uri);
    return undefined;
  } catch (error) {
    if (isLabelqError(error)) return error.message;
    throw error;
  }
}

function remember(skipped: SkippedEntries, entry: SourceEntry, reason: string): void {
  skipped.count += 1;
  if (skipped.first.length < shownInvalidEntries) skipped.first.push({ line: entry.line, uri: entry.uri, reason });
}

export function describeInvalid(entry: InvalidEntry): string {
  return entry.line === undefined ? `${entry.uri}: ${entry.reason}` : `line ${entry.line}: ${entry.reason}`;
}

/**
 * The source's items that can be enqueued, in source order, in batches (see Source.batches).
 *
 * Lines a person wrote (manifests, standard input), strict mode (`skipInvalid` false): every line is checked
 * before the first item is yielded, and any bad line throws MANIFEST_LINE_INVALID naming the first 20 (line
 * number and why) and how many there are; nothing is enqueued then. A rereadable source is read twice so that
 * a million-line manifest is never held in memory; standard input keeps its checked URIs in memory.
 * With `skipInvalid`, bad lines are left out and counted in `skipped`.
 * Names found in folders and S3 prefixes that cannot be URIs are always left out and counted in `skipped`.
 */
export async function* checkedItemBatches(source: Source, skipInvalid: boolean, skipped: SkippedEntries): AsyncIterable<SourceItem[]> {
  if (skipInvalid || !source.writtenLines) {
    for await (const entries of source.batches()) {
      const items = keepValid(entries, skipped);
      if (items.length > 0) yield items;
    }
    return;
  }

  const invalid = emptySkipped();
  const kept: SourceItem[][] | undefined = source.rereadable ? undefined : [];
  let valid = 0;
  for await (const entries of source.batches()) {
    const items = keepValid(entries, invalid);
    valid += items.length;
    if (invalid.count === 0) kept?.push(items);
  }
  if (invalid.count > 0) throw invalidLinesError(source, invalid);

  if (kept !== undefined) {
    yield* kept;
    return;
  }
  // Second pass over a file: check again, in case it changed in between.
  let seen = 0;
  for await (const entries of source.batches()) {
    const items = keepValid(entries, invalid);
    if (invalid.count > 0) {
      throw invalidLinesError(source, invalid, 'it changed while it was being enqueued, and the lines before this batch were enqueued');
    }
    seen += items.length;
    if (items.length > 0) yield items;
  }
  if (seen !== valid) {
    throw new LabelqError('SOURCE_INVALID', `The ${source.description} changed while it was being enqueued (${valid} URIs when checked, ${seen} when enqueued).`);
  }
}

/** The same items one by one. */
export async function* checkedItems(source: Source, skipInvalid: boolean, skipped: SkippedEntries): AsyncIterable<SourceItem> {
  for await (const batch of checkedItemBatches(source, skipInvalid, skipped)) yield* batch;
}

function keepValid(entries: SourceEntry[], invalid: SkippedEntries): SourceItem[] {
  const items: SourceItem[] = [];
  for (const entry of entries) {
    const problem = problemOf(entry);
    if (problem === undefined) items.push(entry.line === undefined ? { uri: entry.uri } : { uri: entry.uri, line: entry.line });
    else remember(invalid, entry, problem);
  }
  return items;
}

export function invalidLinesError(source: Source, invalid: SkippedEntries, outcome = 'nothing was enqueued'): LabelqError {
  const lines = invalid.first.map((entry) => `  ${describeInvalid(entry)}`);
  if (invalid.count > invalid.first.length) lines.push(`  … and ${invalid.count - invalid.first.length} more`);
  const what = invalid.count === 1 ? '1 invalid line' : `${invalid.count} invalid lines`;
  return new LabelqError(
    'MANIFEST_LINE_INVALID',
    `The ${source.description} has ${what}; ${outcome}. Fix them, or pass --skip-invalid to enqueue the valid lines only:\n${lines.join('\n')}`,
    { details: { invalidLines: invalid.count } },
  );
}
