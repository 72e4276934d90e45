/**
 * Retries of store operations through short outages of an S3-compatible server: network errors (refused, reset,
 * timed out), HTTP 5xx, 429 and throttling are tried again with exponential backoff and jitter; anything else
 * (403, 404, a bad request) is returned at once. A longer outage still ends in STORE_UNAVAILABLE, a retryable job
 * error, and BullMQ's own backoff between job attempts takes over.
 */
export interface StoreRetryPolicy {
  /** Tries per operation, the first included. 1 = no retries. */
  attempts: number;
  /** Delay before the second try, in ms; doubles for each later try. */
  firstDelayMs: number;
  /** Largest delay between two tries, in ms. */
  maxDelayMs: number;
}

export const defaultStoreRetryPolicy: StoreRetryPolicy = { attempts: 6, firstDelayMs: 500, maxDelayMs: 8_000 };

const transientNetworkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
const transientNames = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'SlowDown', 'Throttling', 'ThrottlingException', 'ServiceUnavailable', 'InternalError']);

/** True for an error another try may cure: the server was unreachable, overloaded or failed inside. */
export function isTransientStoreError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number }; cause?: unknown };
  if (e.$retryable !== undefined) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (e.code !== undefined && transientNetworkCodes.has(e.code)) return true;
  if (e.name !== undefined && transientNames.has(e.name)) return true;
  return e.cause !== undefined && e.cause !== error && isTransientStoreError(e.cause);
}

/** Delay before try `attempt + 1` (attempt is 1-based): doubling from firstDelayMs, capped, 0–20 % jitter. */
export function storeRetryDelayMs(policy: StoreRetryPolicy, attempt: number): number {
  const base = Math.min(policy.firstDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
  return Math.round(base * (1 + Math.random() * 0.2));
}

/**
 * Runs `operation` until it succeeds, fails with a non-transient error, or has been tried `policy.attempts`
 * times; then throws the last error. `onRetry` hears each transient failure that will be tried again;
 * `isTransient` decides which failures are (default: isTransientStoreError).
 */
export async function withStoreRetries<T>(
  policy: StoreRetryPolicy,
  operation: () => Promise<T>,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
  isTransient: (error: unknown) => boolean = isTransientStoreError,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= policy.attempts || !isTransient(error)) throw error;
      const delayMs = storeRetryDelayMs(policy, attempt);
      onRetry?.(error, attempt, delayMs);
      await new Promise((done) => setTimeout(done, delayMs));
    }
  }
}
