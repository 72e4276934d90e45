import { describe, expect, it } from 'vitest';
import { TtlCache } from './ttl-cache.ts';

describe('TtlCache', () => {
  it('computes once per key while the value is fresh, and again after it expired', async () => {
    const cache = new TtlCache<number>();
    let calls = 0;
    const compute = async (): Promise<number> => ++calls;
    const [a, b] = await Promise.all([cache.get('k', compute, () => 50), cache.get('k', compute, () => 50)]);
    expect([a, b, calls]).toEqual([1, 1, 1]);
    expect(await cache.get('other', compute, () => 50)).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await cache.get('k', compute, () => 50)).toBe(3);
  });

  it('forgets a failure at once, and keeps at most maxEntries keys', async () => {
    const cache = new TtlCache<number>(2);
    await expect(cache.get('k', () => Promise.reject(new Error('Redis away')), () => 1_000)).rejects.toThrow('Redis away');
    expect(await cache.get('k', async () => 7, () => 1_000)).toBe(7);
    await cache.get('x', async () => 8, () => 1_000);
    await cache.get('y', async () => 9, () => 1_000);
    expect(await cache.get('k', async () => 10, () => 1_000)).toBe(10); // 'k' was the oldest: dropped
  });
});
