/**
 * A source of item URIs: a folder, a manifest (.txt or .jsonl), an S3 prefix or standard input.
 *
 * Each kind of source yields `SourceEntry`s in a deterministic order. An entry whose line could not even be read
 * as a URI (bad JSON, no "uri" field) carries a `problem`; every other entry is checked with `parseItemUri` by
 * `checkedItems` (checked-items.ts), which applies the strict / --skip-invalid rules.
 *
 * Sources yield every entry, duplicates included; `enqueueSource` keeps the first occurrence of each URI and
 * counts the others (distinct-items.ts), so a run holds exactly one record per distinct URI.
 */
export interface SourceEntry {
  uri: string;
  /** 1-based line number, for manifests and standard input. */
  line?: number;
  /** Why this line is not a URI at all (malformed JSON, missing "uri"); undefined when it is a URI to check. */
  problem?: string;
  /** S3 listings: the object's ETag (quotes included, as S3 gives it), to tell a changed object from a labelled one. */
  etag?: string;
  /** S3 listings: the object's LastModified, in ms since the epoch. */
  lastModifiedMs?: number;
}

export interface Source {
  /** What the user named, for messages and the run's metadata: "manifest /data/list.txt", "s3://bucket/photos/". */
  readonly description: string;
  /**
   * The entries are lines a person wrote (manifests, standard input): strict mode checks them all before
   * anything is enqueued. Entries of folders and S3 prefixes are names found there; the few that cannot be
   * URIs (a control character in a file name) are always skipped and reported.
   */
  readonly writtenLines: boolean;
  /** batches() may be called again and gives the same entries (files); false for standard input. */
  readonly rereadable: boolean;
  /**
   * The entries in source order, a batch at a time (a piece of a file, a page of a listing): per-entry work
   * stays in plain loops, which keeps a million-line manifest at well over 100,000 URIs/s.
   */
  batches(): AsyncIterable<SourceEntry[]>;
}

/** The entries of a source one by one. */
export async function* sourceEntries(source: Source): AsyncIterable<SourceEntry> {
  for await (const batch of source.batches()) yield* batch;
}

/** File name extensions of the images a folder or S3 prefix source picks up (compared case-insensitively). */
export const imageExtensions = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'tif', 'tiff', 'avif', 'heic'] as const;

const imageNamePattern = new RegExp(`\\.(${imageExtensions.join('|')})$`, 'i');

export function hasImageExtension(name: string): boolean {
  return imageNamePattern.test(name);
}
