import { describe, expect, it } from 'vitest';
import { isTransientStoreError, storeRetryDelayMs, withStoreRetries } from './transient-retry.ts';

describe('store retries', () => {
  it('tells transient failures from permanent ones', () => {
    expect(isTransientStoreError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransientStoreError({ name: 'InternalError', $metadata: { httpStatusCode: 500 } })).toBe(true);
    expect(isTransientStoreError({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isTransientStoreError({ name: 'TimeoutError' })).toBe(true);
    expect(isTransientStoreError(new Error('wrapped', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }))).toBe(true);
    expect(isTransientStoreError({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })).toBe(false);
    expect(isTransientStoreError({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } })).toBe(false);
    expect(isTransientStoreError('a string')).toBe(false);
  });

  it('doubles the delay up to the cap, with at most 20 % jitter', () => {
    const policy = { attempts: 6, firstDelayMs: 500, maxDelayMs: 8_000 };
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) => storeRetryDelayMs(policy, attempt));
    [500, 1000, 2000, 4000, 8000, 8000].forEach((base, i) => {
      expect(delays[i]).toBeGreaterThanOrEqual(base);
      expect(delays[i]).toBeLessThanOrEqual(base * 1.2);
    });
  });

  it('tries a transient failure again and gives up after the last attempt', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    let tries = 0;
    const retried: number[] = [];
    await expect(
      withStoreRetries({ attempts: 3, firstDelayMs: 1, maxDelayMs: 2 }, async () => {
        tries++;
        throw refused;
      }, (_error, attempt) => retried.push(attempt)),
    ).rejects.toBe(refused);
    expect(tries).toBe(3);
    expect(retried).toEqual([1, 2]);

    tries = 0;
    const value = await withStoreRetries({ attempts: 5, firstDelayMs: 1, maxDelayMs: 2 }, async () => {
      tries++;
      if (tries < 3) throw refused;
      return 'written';
    });
    expect({ value, tries }).toEqual({ value: 'written', tries: 3 });
  });

  it('does not retry a permanent failure', async () => {
    let tries = 0;
    const denied = { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } };
    await expect(withStoreRetries({ attempts: 5, firstDelayMs: 1, maxDelayMs: 2 }, async () => {
      tries++;
      throw denied;
    })).rejects.toBe(denied);
    expect(tries).toBe(1);
  });
});
