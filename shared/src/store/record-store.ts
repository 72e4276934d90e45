import { chunkName } from '../job.ts';

/**
 * Where records go. Keys are relative to the store's root and use "/" separators; the layout is the same for
 * every kind of store:  <run>/records/<chunk>.jsonl  — one JSON Lines object per job, written whole.
 */
export interface RecordStore {
  /** The store's location as the user wrote it, normalised: `s3://bucket/prefix` or `file:///abs/folder`. */
  readonly url: string;
  /** Writes the whole object, replacing any earlier one; a reader never sees a partial object. */
  put(key: string, body: Buffer | string): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /** Keys under a prefix, in lexicographic order. */
  list(prefix: string): AsyncIterable<string>;
}

export function recordKey(run: string, chunk: number): string {
  return `${run}/records/${chunkName(chunk)}.jsonl`;
}

export function runRecordsPrefix(run: string): string {
  return `${run}/records/`;
}

/** The chunk index in a record key, or undefined when the key is not a record object. */
export function chunkOfRecordKey(key: string): number | undefined {
  const match = /\/records\/(\d{8,})\.jsonl$/.exec(key);
  return match?.[1] === undefined ? undefined : Number.parseInt(match[1], 10);
}
