import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabelqError } from '@labelq/shared/errors';
import { checkedItems, emptySkipped, shownInvalidEntries } from './checked-items.ts';
import { collect } from './collect.ts';
import { localManifestSource } from './manifest-source.ts';

describe('checkedItems', () => {
  let dir: string;
  let manifest: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labelq-checked-'));
    manifest = join(dir, 'mixed.txt');
    await writeFile(
      manifest,
      [
        's3://b/one.jpg', // 1
        'images/relative.jpg', // 2
        '# comment', // 3
        'ftp://host/x.jpg', // 4
        '/data/two.jpg', // 5
        's3://bucket-only', // 6
        'https://example.com/three.jpg', // 7
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('strict: fails before yielding anything, naming each bad line and why', async () => {
    const source = await localManifestSource(manifest, 'text');
    const seen: string[] = [];
    let failure: unknown;
    try {
      for await (const item of checkedItems(source, false, emptySkipped())) seen.push(item.uri);
    } catch (error) {
      failure = error;
    }
    expect(seen).toEqual([]);
    expect(failure).toBeInstanceOf(LabelqError);
    const error = failure as LabelqError;
    expect(error.code).toBe('MANIFEST_LINE_INVALID');
    expect(error.message).toContain(`The manifest ${manifest} has 3 invalid lines; nothing was enqueued`);
    expect(error.message).toContain('line 2: The URI "images/relative.jpg" is not valid: it is a relative path');
    expect(error.message).toContain('line 4: The URI "ftp://host/x.jpg" uses the scheme "ftp:"');
    expect(error.message).toContain('line 6: The URI "s3://bucket-only" is not valid');
    expect(error.message).toContain('--skip-invalid');
  });

  it('--skip-invalid: yields the valid lines and reports the skipped ones with their line numbers', async () => {
    const source = await localManifestSource(manifest, 'text');
    const skipped = emptySkipped();
    const items = await collect(checkedItems(source, true, skipped));
    expect(items).toEqual([
      { uri: 's3://b/one.jpg', line: 1 },
      { uri: '/data/two.jpg', line: 5 },
      { uri: 'https://example.com/three.jpg', line: 7 },
    ]);
    expect(skipped.count).toBe(3);
    expect(skipped.first.map((entry) => entry.line)).toEqual([2, 4, 6]);
  });

  it('strict, many bad lines: shows the first 20 and counts the rest', async () => {
    const path = join(dir, 'many-bad.txt');
    const lines = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? `s3://b/${i}.jpg` : `bad-${i}.jpg`));
    await writeFile(path, lines.join('\n'));
    const source = await localManifestSource(path, 'text');
    const error = await collect(checkedItems(source, false, emptySkipped())).then(
      () => undefined,
      (failure: unknown) => failure as LabelqError,
    );
    expect(error?.message).toContain('has 25 invalid lines');
    expect(error?.message).toContain('line 2: ');
    expect(error?.message).toContain(`line ${2 * shownInvalidEntries}: `);
    expect(error?.message).not.toContain(`line ${2 * shownInvalidEntries + 2}: `);
    expect(error?.message).toContain('… and 5 more');
  });

  it('strict, all lines good: reads the file twice and yields everything in order', async () => {
    const path = join(dir, 'good.txt');
    await writeFile(path, 's3://b/1.jpg\ns3://b/2.jpg\ns3://b/1.jpg\n');
    const source = await localManifestSource(path, 'text');
    // Duplicates are kept: one record per line.
    expect((await collect(checkedItems(source, false, emptySkipped()))).map((item) => item.uri)).toEqual(['s3://b/1.jpg', 's3://b/2.jpg', 's3://b/1.jpg']);
  });
});
