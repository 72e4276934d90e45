import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect } from './collect.ts';
import { sourceEntries } from './source-types.ts';
import { folderSource } from './folder-source.ts';

describe('folderSource', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'labelq-folder-source-'));
    const files = [
      'b.jpg',
      'a.JPEG',
      'notes.txt',
      'z/deep/er/c.png',
      'z/deep/readme.md',
      'm/d.WebP',
      'm/e.gif',
      'm/f.tif',
      'm/g.TIFF',
      'm/h.avif',
      'm/i.heic',
      'm/no-extension',
      'm/jpg',
      'm/photo.jpg.bak',
    ];
    for (const file of files) {
      await mkdir(join(root, file, '..'), { recursive: true });
      await writeFile(join(root, file), 'not really an image');
    }
    await mkdir(join(root, 'empty-folder.jpg'));
    await symlink(join(root, 'b.jpg'), join(root, 'link-to-b.jpg'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('yields the image files under it, recursively, as sorted absolute paths', async () => {
    const source = await folderSource(root);
    const uris = (await collect(sourceEntries(source))).map((entry) => entry.uri);
    expect(uris).toEqual(
      ['a.JPEG', 'b.jpg', 'link-to-b.jpg', 'm/d.WebP', 'm/e.gif', 'm/f.tif', 'm/g.TIFF', 'm/h.avif', 'm/i.heic', 'z/deep/er/c.png'].map((file) =>
        join(root, file),
      ),
    );
    expect(source.description).toBe(`folder ${root}`);
    expect(source.writtenLines).toBe(false);
  });

  it('gives the same order every time', async () => {
    const source = await folderSource(root);
    expect(await collect(sourceEntries(source))).toEqual(await collect(sourceEntries(source)));
  });

  it('refuses a missing folder and a file, naming them', async () => {
    await expect(folderSource(join(root, 'missing'))).rejects.toMatchObject({ code: 'SOURCE_INVALID', message: expect.stringContaining('missing') });
    await expect(folderSource(join(root, 'b.jpg'))).rejects.toMatchObject({ code: 'SOURCE_INVALID', message: expect.stringContaining('is not a folder') });
  });
});
