import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect } from './collect.ts';
import { sourceEntries } from './source-types.ts';
import { openSource, type SourceDependencies } from './source.ts';

describe('openSource', () => {
  let dir: string;
  const deps = (cwd: string): SourceDependencies => ({
    s3: () => {
      throw new Error('no S3 client in this test');
    },
    stdin: Readable.from(['s3://b/from-stdin.jpg\n']),
    cwd,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labelq-open-source-'));
    await mkdir(join(dir, 'images'));
    await writeFile(join(dir, 'images', 'a.jpg'), 'x');
    await writeFile(join(dir, 'list.txt'), 's3://b/from-txt.jpg\n');
    await writeFile(join(dir, 'list.jsonl'), '{"uri":"s3://b/from-jsonl.jpg"}\n');
    await writeFile(join(dir, 'list.urls'), 's3://b/plain.jpg\n{"uri":"s3://b/json.jpg"}\n');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const urisOf = async (spec: string): Promise<string[]> => (await collect(sourceEntries(await openSource(spec, deps(dir))))).map((e) => e.uri);

  it('picks the kind from the argument', async () => {
    expect(await urisOf('images')).toEqual([join(dir, 'images', 'a.jpg')]);
    expect(await urisOf(join(dir, 'images'))).toEqual([join(dir, 'images', 'a.jpg')]);
    expect(await urisOf(pathToFileURL(join(dir, 'images')).href)).toEqual([join(dir, 'images', 'a.jpg')]);
    expect(await urisOf('list.txt')).toEqual(['s3://b/from-txt.jpg']);
    expect(await urisOf('list.jsonl')).toEqual(['s3://b/from-jsonl.jpg']);
    expect(await urisOf('list.urls')).toEqual(['s3://b/plain.jpg', 's3://b/json.jpg']);
    expect(await urisOf('-')).toEqual(['s3://b/from-stdin.jpg']);
  });

  it('asks for the S3 client only for s3:// sources', async () => {
    await expect(openSource('s3://bucket/prefix/', deps(dir))).rejects.toThrow('no S3 client in this test');
  });

  it('refuses what it cannot read, with a sentence naming it', async () => {
    await expect(openSource('missing-folder', deps(dir))).rejects.toMatchObject({
      code: 'SOURCE_INVALID',
      message: `The source ${join(dir, 'missing-folder')} does not exist.`,
    });
    await expect(openSource('images/a.jpg', deps(dir))).rejects.toMatchObject({ code: 'SOURCE_INVALID', message: expect.stringContaining('is an image') });
    await expect(openSource('https://example.com/list.txt', deps(dir))).rejects.toMatchObject({ code: 'SOURCE_INVALID' });
  });
});
