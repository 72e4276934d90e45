import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { isLabelqError, itemError, type LabelqError } from '@labelq/shared/errors';
import { createAddressPolicy } from './address-policy.ts';
import { throwIfCallerAborted, type FetchLimits, type ItemFetcher } from './fetcher.ts';

/**
 * Fetches http:// and https:// items with node:http(s), not the global fetch: node:http takes a `lookup`
 * function per request, which is where refusing private addresses belongs (it sees the address actually
 * connected to, so DNS rebinding cannot slip past it), and it gives a connect timeout without extra packages.
 *
 * - Address policy (address-policy.ts, always on): loopback, private, link-local and other internal addresses
 *   are refused with FETCH_ADDRESS_REFUSED, for the item's URL and every redirect target, unless listed in
 *   `allowedHosts` (LABELQ_HTTP_ALLOWED_HOSTS).
 *
 * - Timeouts: `connectTimeoutMs` for the TCP connection, `timeoutMs` for everything (redirects, retries, body).
 * - Redirects are followed by hand, at most `maxRedirects`, only to http(s) URLs; each hop goes through checkUrl.
 * - The byte cap is checked on Content-Length first, then counted while streaming.
 * - 404/410 → FETCH_NOT_FOUND, 401/403 → FETCH_FORBIDDEN, 429 and 5xx → retried with backoff (Retry-After
 *   honoured up to `maxRetryDelayMs`) then FETCH_HTTP_ERROR, other statuses → FETCH_HTTP_ERROR; time up →
 *   FETCH_TIMEOUT; refused connection, unknown host, TLS failure → FETCH_FAILED.
 * - Messages show the URL without user name, password or query string (presigned URLs carry signatures there).
 */
export interface HttpFetchOptions extends FetchLimits {
  /** Time allowed to open the TCP connection, in ms; default the smaller of 10 000 and timeoutMs. */
  connectTimeoutMs?: number;
  /** Extra attempts after a 429, a 5xx or a reset connection; default 2. */
  retries?: number;
  /** First retry delay in ms, doubled each retry (±20% jitter); default 250. */
  retryBaseDelayMs?: number;
  /** Longest single retry delay, Retry-After included, in ms; default 5 000. */
  maxRetryDelayMs?: number;
  /** Kept-alive connections per host; default 32. */
  maxSocketsPerHost?: number;
  /**
   * Hosts and ranges that may be fetched although internal (IP addresses, CIDR ranges, host names, *.domain);
   * default none: only public addresses.
   */
  allowedHosts?: readonly string[];
}

/**
 * Extra checks on top of the address policy: `checkUrl` sees every URL before it is requested (the item's and
 * each redirect target), after the address policy, and may throw an item error.
 */
export interface HttpFetchHooks {
  checkUrl?: (url: URL) => void | Promise<void>;
}

export interface HttpFetcher extends ItemFetcher {
  /** Closes kept-alive connections. */
  close(): void;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
const retryableNetworkCodes = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

class ConnectTimeoutError extends Error {
  readonly connectTimeoutMs: number;
  constructor(connectTimeoutMs: number) {
    super(`no connection within ${connectTimeoutMs} ms`);
    this.connectTimeoutMs = connectTimeoutMs;
  }
}

/** The URL as shown in messages and logs: no credentials, no query string. */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search === '' ? '' : '?…'}`;
}

export function createHttpFetcher(options: HttpFetchOptions, hooks: HttpFetchHooks = {}): HttpFetcher {
  const { maxImageBytes, timeoutMs, maxRedirects } = options;
  const connectTimeoutMs = options.connectTimeoutMs ?? Math.min(10_000, timeoutMs);
  const retries = options.retries ?? 2;
  const retryBaseDelayMs = options.retryBaseDelayMs ?? 250;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 5_000;
  const agentOptions = { keepAlive: true, maxSockets: options.maxSocketsPerHost ?? 32 };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };
  const policy = createAddressPolicy(options.allowedHosts);

  function request(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
      const send = protocol === 'https:' ? https.request : http.request;
      const req = send(url, {
        method: 'GET',
        agent: agents[protocol],
        signal,
        headers: { accept: 'image/*, */*;q=0.5', 'user-agent': 'labelq-worker' },
        lookup: policy.lookup,
      });
      let connectTimer: NodeJS.Timeout | undefined;
      req.on('socket', (socket) => {
        if (!socket.connecting) return; // a kept-alive connection
        connectTimer = setTimeout(() => req.destroy(new ConnectTimeoutError(connectTimeoutMs)), connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connectTimer));
      });
      req.once('close', () => clearTimeout(connectTimer));
      req.once('response', resolve);
      req.once('error', reject);
      req.end();
    });
  }

  async function readBody(response: IncomingMessage, shown: string): Promise<Buffer> {
    const declared = response.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxImageBytes) {
      response.destroy();
      throw itemError('FETCH_TOO_LARGE', `${shown} is ${declared} bytes (Content-Length), more than the ${maxImageBytes} bytes allowed (maxImageBytes).`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxImageBytes) {
        response.destroy();
        throw itemError('FETCH_TOO_LARGE', `${shown} sent more than the ${maxImageBytes} bytes allowed (maxImageBytes); the download was stopped.`);
      }
      chunks.push(chunk);
    }
    if (!response.complete) throw itemError('FETCH_FAILED', `${shown}: the connection closed before the whole body arrived (${total} bytes).`);
    return Buffer.concat(chunks, total);
  }

  async function fetchHttp(uri: string, callerSignal?: AbortSignal): Promise<Buffer> {
    throwIfCallerAborted(callerSignal);
    let url = parseHttpUrl(uri);
    const startedMs = Date.now();
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = callerSignal === undefined ? deadline : AbortSignal.any([callerSignal, deadline]);
    let redirects = 0;
    let attempt = 0;

    /** Waits before the next attempt, or returns false when the time limit would pass first. */
    async function backoff(retryAfter: string | string[] | undefined): Promise<boolean> {
      if (attempt >= retries) return false;
      const exponentialMs = retryBaseDelayMs * 2 ** attempt * (0.8 + 0.4 * Math.random());
      const retryAfterMs = typeof retryAfter === 'string' && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : 0;
      const delayMs = Math.min(maxRetryDelayMs, Math.max(exponentialMs, retryAfterMs));
      if (Date.now() - startedMs + delayMs >= timeoutMs) return false;
      attempt++;
      await sleep(delayMs, undefined, { signal });
      return true;
    }

    for (;;) {
      const shown = describeUrl(url);
      try {
        policy.checkUrl(url);
        await hooks.checkUrl?.(url);
        const response = await request(url, signal);
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) return await readBody(response, shown);
        response.destroy();
        if (redirectStatuses.has(status)) {
          url = redirectTarget(url, response, status, ++redirects, maxRedirects);
          continue;
        }
        const answer = `${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`;
        if (status === 404 || status === 410) throw itemError('FETCH_NOT_FOUND', `${shown} was not found (HTTP ${answer}).`);
        if (status === 401 || status === 403) throw itemError('FETCH_FORBIDDEN', `${shown} refused access (HTTP ${answer}).`);
        if (status === 429 || status >= 500) {
          if (await backoff(response.headers['retry-after'])) continue;
          throw itemError('FETCH_HTTP_ERROR', `${shown} answered HTTP ${answer} on all ${attempt + 1} attempts.`);
        }
        throw itemError('FETCH_HTTP_ERROR', `${shown} answered HTTP ${answer}.`);
      } catch (error) {
        throwIfCallerAborted(callerSignal);
        if (isLabelqError(error)) throw error;
        if (deadline.aborted) throw itemError('FETCH_TIMEOUT', `${shown} did not answer in full within ${timeoutMs} ms.`, error);
        if (error instanceof ConnectTimeoutError) {
          throw itemError('FETCH_TIMEOUT', `${shown}: no connection to ${url.host} within ${connectTimeoutMs} ms.`, error);
        }
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (retryableNetworkCodes.has(code) && (await backoff(undefined))) continue;
        throw networkError(error, code, url, shown);
      }
    }
  }

  return {
    fetch: fetchHttp,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

function parseHttpUrl(uri: string): URL {
  let url: URL;
  try {
    url = new URL(uri);
  } catch (error) {
    throw itemError('URI_INVALID', `The URI ${JSON.stringify(uri.slice(0, 200))} is not a well-formed URL.`, error);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw itemError('URI_UNSUPPORTED_SCHEME', `The URI ${describeUrl(url)} is not http:// or https://.`);
  }
  return url;
}

function redirectTarget(from: URL, response: IncomingMessage, status: number, redirects: number, maxRedirects: number): URL {
  const shown = describeUrl(from);
  if (redirects > maxRedirects) {
    throw itemError('FETCH_HTTP_ERROR', `${shown} redirected once more after ${maxRedirects} redirects (maxRedirects); stopped there.`);
  }
  const location = response.headers.location;
  if (location === undefined) throw itemError('FETCH_HTTP_ERROR', `${shown} answered HTTP ${status} (a redirect) without a Location header.`);
  let target: URL;
  try {
    target = new URL(location, from);
  } catch (error) {
    throw itemError('FETCH_HTTP_ERROR', `${shown} redirected to an unparsable Location.`, error);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw itemError('FETCH_HTTP_ERROR', `${shown} redirected to a ${target.protocol} URL; only http and https redirects are followed.`);
  }
  return target;
}

function networkError(error: unknown, code: string, url: URL, shown: string): LabelqError {
  const reason = error instanceof Error ? error.message : String(error);
  if (code === 'ECONNREFUSED') return itemError('FETCH_FAILED', `${shown}: ${url.host} refused the connection.`, error);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
    return itemError('FETCH_FAILED', `${shown}: the host name ${url.hostname} could not be resolved (${code}).`, error);
  }
  if (code === 'ETIMEDOUT') return itemError('FETCH_TIMEOUT', `${shown}: the connection to ${url.host} timed out.`, error);
  if (code === 'ECONNRESET' || code === 'EPIPE') return itemError('FETCH_FAILED', `${shown}: ${url.host} closed the connection (${code}).`, error);
  if (code.startsWith('HPE_')) return itemError('FETCH_FAILED', `${shown}: the answer is not valid HTTP (${reason}).`, error);
  if (/CERT|TLS|SSL/.test(code)) return itemError('FETCH_FAILED', `${shown}: the TLS connection failed (${reason}).`, error);
  return itemError('FETCH_FAILED', `${shown} could not be fetched: ${reason}.`, error);
}
