import { LabelqError } from '@labelq/shared/errors';
import { parseItemUri } from '@labelq/shared/uri';
import { createFileFetcher } from './fetch-file.ts';
import { createHttpFetcher, type HttpFetchHooks, type HttpFetchOptions } from './fetch-http.ts';
import type { FetchLimits, ItemFetcher } from './fetcher.ts';

export interface ItemFetcherDeps {
  /** Fetches s3:// URIs (given the whole URI); without it, s3:// items fail with URI_UNSUPPORTED_SCHEME. */
  s3?: ItemFetcher;
  limits: FetchLimits;
  /** HTTP tuning (retries, connect timeout, allowedHosts of the address policy) beyond the shared limits. */
  http?: Omit<HttpFetchOptions, keyof FetchLimits>;
  /** Extra URL checks of the HTTP fetcher, after its address policy (see HttpFetchHooks). */
  httpHooks?: HttpFetchHooks;
}

export interface ItemFetcherWithClose extends ItemFetcher {
  /** Closes the HTTP fetcher's kept-alive connections (the S3 fetcher belongs to the caller). */
  close(): void;
}

/**
 * One fetcher for every item URI, dispatching on its form (shared/src/uri.ts): file:// and absolute paths to
 * the file fetcher, http(s):// to the HTTP fetcher, s3:// to the injected S3 fetcher. Relative paths and
 * malformed URIs fail with URI_INVALID, other schemes with URI_UNSUPPORTED_SCHEME.
 */
export function createItemFetcher(deps: ItemFetcherDeps): ItemFetcherWithClose {
  const file = createFileFetcher(deps.limits);
  const web = createHttpFetcher({ ...deps.http, ...deps.limits }, deps.httpHooks);
  return {
    async fetch(uri, signal) {
      const parsed = parseItemUri(uri);
      switch (parsed.kind) {
        case 'file':
          return file.fetch(parsed.path, signal);
        case 'http':
          return web.fetch(parsed.url.href, signal);
        case 's3':
          if (deps.s3 === undefined) {
            throw new LabelqError('URI_UNSUPPORTED_SCHEME', `The URI ${JSON.stringify(uri)} is an s3:// URI, but this worker has no S3 fetcher configured.`);
          }
          return deps.s3.fetch(uri, signal);
      }
    },
    close() {
      web.close();
    },
  };
}
