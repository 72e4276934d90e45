import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { LabelqError } from '@labelq/shared/errors';
import { parseS3Url } from '@labelq/shared/s3-client';
import { folderSource } from './folder-source.ts';
import { localManifestSource, manifestFormatOf, s3ManifestSource } from './manifest-source.ts';
import { s3PrefixSource } from './s3-prefix-source.ts';
import { hasImageExtension, type Source } from './source-types.ts';
import { stdinSource } from './stdin-source.ts';

export type { Source, SourceEntry } from './source-types.ts';

export interface SourceDependencies {
  /** Called only for s3:// sources. */
  s3: () => S3Client;
  /** Read for the source "-". */
  stdin: Readable;
  /** Relative paths resolve against it (default: the current directory). */
  cwd?: string;
}

/**
 * Picks the source a command-line argument names:
 *   -                          standard input (URIs or JSON object lines)
 *   s3://bucket/list.txt|.jsonl a manifest stored in S3
 *   s3://bucket/prefix/        the images under an S3 prefix
 *   a folder                   the images under it, recursively
 *   a .txt / .jsonl file       a manifest; a file with another extension is read like standard input
 */
export async function openSource(spec: string, deps: SourceDependencies): Promise<Source> {
  if (spec === '-') return stdinSource(deps.stdin);
  if (/^s3:\/\//i.test(spec)) {
    const { bucket, key } = parseS3Url(`s3://${spec.slice('s3://'.length)}`);
    const format = manifestFormatOf(key);
    if (format !== undefined) return s3ManifestSource(deps.s3(), bucket, key, format);
    return s3PrefixSource(deps.s3(), bucket, key);
  }
  let path = spec;
  if (/^file:\/\//i.test(spec)) {
    try {
      path = fileURLToPath(spec);
    } catch (error) {
      throw new LabelqError('SOURCE_INVALID', `The source ${spec} is not a usable file URL: ${(error as Error).message}.`);
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw new LabelqError(
      'SOURCE_INVALID',
      `The source ${spec} cannot be read: a source is a folder, a .txt or .jsonl manifest, s3://bucket/prefix/ or "-" for standard input.`,
    );
  }
  const absolute = isAbsolute(path) ? path : resolve(deps.cwd ?? process.cwd(), path);
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(absolute)).isDirectory();
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new LabelqError(
      'SOURCE_INVALID',
      missing ? `The source ${absolute} does not exist.` : `The source ${absolute} cannot be read: ${(error as Error).message}.`,
      { cause: error },
    );
  }
  if (isDirectory) return folderSource(absolute);
  if (hasImageExtension(absolute)) {
    throw new LabelqError('SOURCE_INVALID', `The source ${absolute} is an image, not a manifest: pass its folder, or list it in a .txt manifest.`);
  }
  return localManifestSource(absolute, manifestFormatOf(absolute) ?? 'mixed');
}
