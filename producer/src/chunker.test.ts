import { describe, expect, it } from 'vitest';
import { chunked, rechunked } from './chunker.ts';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

async function* numbers(count: number): AsyncIterable<number> {
  for (let i = 0; i < count; i += 1) yield i;
}

describe('chunked', () => {
  it('groups items in order, the last group shorter', async () => {
    expect(await collect(chunked(numbers(7), 3))).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it('yields no empty group', async () => {
    expect(await collect(chunked(numbers(6), 3))).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(await collect(chunked(numbers(0), 3))).toEqual([]);
  });

  it('accepts plain iterables and refuses sizes below 1', async () => {
    expect(await collect(chunked(['a', 'b'], 1))).toEqual([['a'], ['b']]);
    await expect(collect(chunked(['a'], 0))).rejects.toThrow(RangeError);
  });
});

describe('rechunked', () => {
  it('regroups batches of any length into chunks of the size, in order', async () => {
    const batches = [[0, 1], [2, 3, 4, 5, 6, 7, 8], [], [9], [10, 11, 12]];
    expect(await collect(rechunked(batches, 3))).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11], [12]]);
  });

  it('gives the same chunks as chunked() for any batching', async () => {
    const items = Array.from({ length: 103 }, (_, i) => i);
    for (const batchSize of [1, 2, 7, 10, 64, 200]) {
      const batches: number[][] = [];
      for (let i = 0; i < items.length; i += batchSize) batches.push(items.slice(i, i + batchSize));
      for (const size of [1, 5, 10, 64, 103, 500]) {
        expect(await collect(rechunked(batches, size))).toEqual(await collect(chunked(items, size)));
      }
    }
  });
});
