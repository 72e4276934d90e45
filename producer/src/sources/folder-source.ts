import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LabelqError } from '@labelq/shared/errors';
import { hasImageExtension, type Source, type SourceEntry } from './source-types.ts';

/**
 * The image files under a folder, recursively, as absolute paths sorted by code unit (the same order on every
 * run, whatever the file system returns). Files whose names have no image extension are left out; symbolic
 * links to images are kept (links to folders are not followed).
 */
export async function folderImagePaths(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const paths: string[] = [];
  for (const entry of entries) {
    if ((entry.isFile() || entry.isSymbolicLink()) && hasImageExtension(entry.name)) {
      paths.push(join(entry.parentPath, entry.name));
    }
  }
  return paths.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const folderBatchSize = 10_000;

/** A local folder; `root` must be absolute. */
export async function folderSource(root: string): Promise<Source> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(root)).isDirectory();
  } catch (error) {
    throw new LabelqError('SOURCE_INVALID', `The folder ${root} cannot be read: ${(error as Error).message}.`, { cause: error });
  }
  if (!isDirectory) throw new LabelqError('SOURCE_INVALID', `${root} is not a folder.`);
  return {
    description: `folder ${root}`,
    writtenLines: false,
    rereadable: true,
    async *batches(): AsyncIterable<SourceEntry[]> {
      const paths = await folderImagePaths(root);
      for (let start = 0; start < paths.length; start += folderBatchSize) {
        yield paths.slice(start, start + folderBatchSize).map((path) => ({ uri: path }));
      }
    },
  };
}
