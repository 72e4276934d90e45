/**
 * Something that fetches the bytes of one item. It throws LabelqError item errors (FETCH_*, URI_*) for problems
 * of that one item, and lets the caller's abort reason through unchanged when `signal` aborts (the worker is
 * shutting down or the job was cancelled).
 */
export interface ItemFetcher {
  fetch(uri: string, signal?: AbortSignal): Promise<Buffer>;
}

/** Limits shared by every fetcher. */
export interface FetchLimits {
  /** Largest item fetched, in bytes; larger ones fail with FETCH_TOO_LARGE without being read whole. */
  maxImageBytes: number;
  /** Total time allowed to fetch one item (all redirects and retries together), in ms. */
  timeoutMs: number;
  /** HTTP redirects followed per item. */
  maxRedirects: number;
}

/** Throws the caller's abort reason when the caller aborted (not an item error: nothing is wrong with the item). */
export function throwIfCallerAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('The fetch was aborted.', 'AbortError');
}
