import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkedItems, emptySkipped } from './checked-items.ts';
import { collect } from './collect.ts';
import { sourceEntries } from './source-types.ts';
import { stdinSource } from './stdin-source.ts';

describe('stdinSource', () => {
  it('reads URI lines and JSON object lines, mixed', async () => {
    const stdin = Readable.from(['s3://b/one.jpg\n{"uri": "s3://b/two.jpg"}\n', '\n# comment\n/data/three.png\n']);
    const source = stdinSource(stdin);
    expect(source.rereadable).toBe(false);
    expect(await collect(sourceEntries(source))).toEqual([
      { uri: 's3://b/one.jpg', line: 1 },
      { uri: 's3://b/two.jpg', line: 2 },
      { uri: '/data/three.png', line: 5 },
    ]);
  });

  it('is checked whole before the first item in strict mode (it can be read only once)', async () => {
    const good = stdinSource(Readable.from(['s3://b/one.jpg\n', 's3://b/two.jpg\n']));
    expect(await collect(checkedItems(good, false, emptySkipped()))).toEqual([
      { uri: 's3://b/one.jpg', line: 1 },
      { uri: 's3://b/two.jpg', line: 2 },
    ]);
    const bad = stdinSource(Readable.from(['s3://b/one.jpg\n', 'relative.jpg\n', 's3://b/three.jpg\n']));
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const item of checkedItems(bad, false, emptySkipped())) seen.push(item.uri);
      })(),
    ).rejects.toMatchObject({ code: 'MANIFEST_LINE_INVALID', message: expect.stringContaining('line 2:') });
    expect(seen).toEqual([]);
  });
});
