import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect } from './collect.ts';
import { sourceEntries } from './source-types.ts';
import { localManifestSource, manifestEntryBatches, manifestFormatOf } from './manifest-source.ts';

describe('manifests', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labelq-manifest-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('knows .txt, .jsonl and .ndjson, in any case', () => {
    expect(manifestFormatOf('/a/list.TXT')).toBe('text');
    expect(manifestFormatOf('list.jsonl')).toBe('jsonl');
    expect(manifestFormatOf('list.ndjson')).toBe('jsonl');
    expect(manifestFormatOf('list.csv')).toBeUndefined();
  });

  it('reads a .txt manifest: one URI per line, blank lines and # comments skipped, line numbers kept', async () => {
    const path = join(dir, 'list.txt');
    await writeFile(path, '\uFEFF# my images\ns3://b/one.jpg\r\n\n   \n  /data/two.png  \n# another comment\nhttps://example.com/three.jpg');
    const source = await localManifestSource(path, 'text');
    expect(await collect(sourceEntries(source))).toEqual([
      { uri: 's3://b/one.jpg', line: 2 },
      { uri: '/data/two.png', line: 5 },
      { uri: 'https://example.com/three.jpg', line: 7 },
    ]);
    expect(source.description).toBe(`manifest ${path}`);
    expect(source.writtenLines).toBe(true);
    expect(source.rereadable).toBe(true);
  });

  it('reads a .jsonl manifest: objects with a string "uri", other fields ignored; malformed lines carry a problem', async () => {
    const path = join(dir, 'list.jsonl');
    const lines = [
      '{"uri": "s3://b/one.jpg", "id": 7}',
      '',
      '{"uri": "/data/two.png"}',
      '{"url": "s3://b/typo.jpg"}',
      '{"uri": 12}',
      '["s3://b/array.jpg"]',
      '{not json',
      '# a comment',
    ];
    await writeFile(path, `${lines.join('\n')}\n`);
    const entries = await collect(sourceEntries(await localManifestSource(path, 'jsonl')));
    expect(entries.map(({ uri, line, problem }) => ({ uri, line, hasProblem: problem !== undefined }))).toEqual([
      { uri: 's3://b/one.jpg', line: 1, hasProblem: false },
      { uri: '/data/two.png', line: 3, hasProblem: false },
      { uri: '{"url": "s3://b/typo.jpg"}', line: 4, hasProblem: true },
      { uri: '{"uri": 12}', line: 5, hasProblem: true },
      { uri: '["s3://b/array.jpg"]', line: 6, hasProblem: true },
      { uri: '{not json', line: 7, hasProblem: true },
    ]);
    expect(entries[2]?.problem).toContain('"uri"');
    expect(entries[5]?.problem).toContain('not valid JSON');
  });

  it('reads lines split across stream chunks', async () => {
    const text = Array.from({ length: 1000 }, (_, i) => `s3://bucket/image-${i}.jpg`).join('\n');
    const pieces = text.match(/[\s\S]{1,7}/g) ?? [];
    const entries = (await collect(manifestEntryBatches(Readable.from(pieces), 'text'))).flat();
    expect(entries).toHaveLength(1000);
    expect(entries[999]).toEqual({ uri: 's3://bucket/image-999.jpg', line: 1000 });
  });

  it('refuses a missing manifest, naming it', async () => {
    await expect(localManifestSource(join(dir, 'missing.txt'), 'text')).rejects.toMatchObject({
      code: 'SOURCE_INVALID',
      message: expect.stringContaining('missing.txt'),
    });
  });
});
