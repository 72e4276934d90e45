import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sharedDataDir } from './shared-data.ts';

/**
 * `copies` distinct paths for each of the 500 photographs of imagenet-sample: symbolic links
 * `<dir>/copy-<n>/<file>` to the read-only originals (nothing is copied), listed in a `.txt` manifest of
 * absolute paths. Each path is its own item, so the run has 500 × copies items and as many records.
 */
export async function writeImageCopiesManifest(dir: string, copies: number): Promise<{ manifest: string; uris: string[] }> {
  const imagesDir = join(sharedDataDir(), 'imagenet-sample');
  const files = (await readdir(imagesDir)).filter((name) => /\.jpe?g$/i.test(name)).sort();
  if (files.length === 0) throw new Error(`no photographs in ${imagesDir}: is ../shared/data there (or LABELQ_SHARED_DATA set)?`);
  const uris: string[] = [];
  for (let copy = 1; copy <= copies; copy++) {
    const copyDir = join(dir, `copy-${copy}`);
    await mkdir(copyDir, { recursive: true });
    for (const file of files) {
      const path = join(copyDir, file);
      await symlink(join(imagesDir, file), path);
      uris.push(path);
    }
  }
  const manifest = join(dir, 'images.txt');
  await writeFile(manifest, `${uris.join('\n')}\n`);
  return { manifest, uris };
}
