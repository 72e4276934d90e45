import { describe, expect, it } from 'vitest';
import type { SourceItem } from './checked-items.ts';
import { collect } from './collect.ts';
import { DistinctUris, distinctItemBatches, emptyDropped, shownDuplicates } from './distinct-items.ts';

async function* batchesOf(...batches: SourceItem[][]): AsyncIterable<SourceItem[]> {
  yield* batches;
}

describe('distinctItemBatches', () => {
  it('keeps the first occurrence of each URI in its place and counts the others', async () => {
    const dropped = emptyDropped();
    const batches = await collect(
      distinctItemBatches(
        batchesOf(
          [{ uri: 's3://b/a.jpg', line: 1 }, { uri: 's3://b/b.jpg', line: 2 }, { uri: 's3://b/a.jpg', line: 3 }],
          [{ uri: 's3://b/a.jpg', line: 4 }],
          [{ uri: 's3://b/c.jpg', line: 5 }, { uri: 's3://b/b.jpg', line: 6 }, { uri: 's3://b//c.jpg', line: 7 }],
        ),
        dropped,
      ),
    );
    // A batch left empty by dropping is not yielded; URIs are compared exactly as written.
    expect(batches.map((batch) => batch.map((item) => item.uri))).toEqual([
      ['s3://b/a.jpg', 's3://b/b.jpg'],
      ['s3://b/c.jpg', 's3://b//c.jpg'],
    ]);
    expect(dropped).toEqual({
      count: 3,
      first: [
        { uri: 's3://b/a.jpg', line: 3 },
        { uri: 's3://b/a.jpg', line: 4 },
        { uri: 's3://b/b.jpg', line: 6 },
      ],
    });
  });

  it(`remembers only the first ${shownDuplicates} duplicates but counts them all`, async () => {
    const dropped = emptyDropped();
    const items = Array.from({ length: 100 }, (_, i) => ({ uri: `/data/${i % 10}.jpg` }));
    const kept = (await collect(distinctItemBatches(batchesOf(items), dropped))).flat();
    expect(kept).toHaveLength(10);
    expect(dropped.count).toBe(90);
    expect(dropped.first).toHaveLength(shownDuplicates);
  });
});

describe('DistinctUris', () => {
  it('starts another Set when one is full (V8 allows 2^24 entries per Set)', () => {
    const seen = new DistinctUris(1000);
    const count = 20_000;
    let added = 0;
    for (let i = 0; i < count; i += 1) if (seen.add(`s3://bucket/images/${i}.jpg`)) added += 1;
    expect(added).toBe(count);
    expect(seen.add('s3://bucket/images/7.jpg')).toBe(false);
    expect(seen.add('s3://bucket/images/19999.jpg')).toBe(false);
    expect(seen.size).toBe(count);
  });
});
