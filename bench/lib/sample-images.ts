import { mkdir, readdir, readFile, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { sharedDataDir } from '../../test/support/shared-data.ts';

/** The 500 photographs of ../shared/data/imagenet-sample/ (read-only; never copied into the repository). */
export function sampleImagesDir(): string {
  return join(sharedDataDir(), 'imagenet-sample');
}

export async function sampleImagePaths(): Promise<string[]> {
  const dir = sampleImagesDir();
  const names = (await readdir(dir)).filter((name) => name.endsWith('.JPEG')).sort();
  if (names.length === 0) throw new Error(`No .JPEG photographs in ${dir}: the bench needs ../shared/data/imagenet-sample/ (or LABELQ_SHARED_DATA).`);
  return names.map((name) => join(dir, name));
}

/** The photographs' bytes, held in memory: the "fetch from memory" of the preprocessing figures. */
export async function sampleImageBytes(limit = Number.POSITIVE_INFINITY): Promise<Buffer[]> {
  const paths = (await sampleImagePaths()).slice(0, limit);
  return Promise.all(paths.map((path) => readFile(path)));
}

/**
 * `count` distinct URIs over the photographs: the producer drops repeated URIs, so copy k of a photograph is a
 * symbolic link `<dir>/copy-<k>/<name>` to it (links only; the photographs themselves are never copied).
 */
export async function distinctImageUris(paths: readonly string[], count: number, dir: string): Promise<string[]> {
  const uris: string[] = [];
  for (let copy = 0; uris.length < count; copy++) {
    const copyDir = join(dir, `copy-${copy}`);
    await mkdir(copyDir, { recursive: true });
    for (const path of paths) {
      if (uris.length >= count) break;
      const link = join(copyDir, basename(path));
      await symlink(path, link).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      uris.push(link);
    }
  }
  return uris;
}
