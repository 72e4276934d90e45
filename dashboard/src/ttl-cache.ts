/**
 * Remembers the promise of a computation for a while, so that several browser tabs polling the dashboard cost
 * Redis and the store one computation per key and period. A failed computation is forgotten at once.
 */
export class TtlCache<T> {
  private readonly entries = new Map<string, { untilMs: number; value: Promise<T> }>();
  private readonly maxEntries: number;

  constructor(maxEntries = 1_000) {
    this.maxEntries = maxEntries;
  }

  /** The value remembered for `key`, or `compute()`'s, remembered for `ttlMs(value)` ms from when it settles. */
  get(key: string, compute: () => Promise<T>, ttlMs: (value: T) => number): Promise<T> {
    const now = Date.now();
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.untilMs > now) return entry.value;
    const value = compute();
    const fresh = { untilMs: Number.POSITIVE_INFINITY, value };
    this.entries.delete(key);
    this.entries.set(key, fresh);
    value.then(
      (settled) => {
        fresh.untilMs = Date.now() + ttlMs(settled);
      },
      () => {
        if (this.entries.get(key) === fresh) this.entries.delete(key);
      },
    );
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
