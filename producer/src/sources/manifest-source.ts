import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LabelqError } from '@labelq/shared/errors';
import { readLineBatches } from './lines.ts';
import { parseManifestLine, type ManifestFormat } from './manifest-line.ts';
import type { Source, SourceEntry } from './source-types.ts';

/** Manifest names: `.txt` holds one URI per line, `.jsonl` / `.ndjson` one JSON object per line. */
export function manifestFormatOf(name: string): ManifestFormat | undefined {
  if (/\.txt$/i.test(name)) return 'text';
  if (/\.(jsonl|ndjson)$/i.test(name)) return 'jsonl';
  return undefined;
}

/**
 * The entries of a manifest stream with 1-based line numbers (blank and "#" lines count but give no entry),
 * one batch per piece of the stream.
 */
export async function* manifestEntryBatches(stream: Readable, format: ManifestFormat): AsyncIterable<SourceEntry[]> {
  let line = 0;
  for await (const lines of readLineBatches(stream)) {
    const batch: SourceEntry[] = [];
    for (const text of lines) {
      line += 1;
      const entry = parseManifestLine(text, line, format);
      if (entry !== undefined) batch.push(entry);
    }
    if (batch.length > 0) yield batch;
  }
}

const readChunkBytes = 1024 * 1024;

/** A manifest file on this machine. Read twice in strict mode (a checking pass, then the enqueuing pass). */
export async function localManifestSource(path: string, format: ManifestFormat): Promise<Source> {
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (error) {
    throw new LabelqError('SOURCE_INVALID', `The manifest ${path} cannot be read: ${(error as Error).message}.`, { cause: error });
  }
  if (!isFile) throw new LabelqError('SOURCE_INVALID', `The manifest ${path} is not a file.`);
  return {
    description: `manifest ${path}`,
    writtenLines: true,
    rereadable: true,
    batches: () => manifestEntryBatches(createReadStream(path, { highWaterMark: readChunkBytes }), format),
  };
}

/** A manifest stored as an S3 object (s3://bucket/list.txt); fetched once per pass. */
export function s3ManifestSource(client: S3Client, bucket: string, key: string, format: ManifestFormat): Source {
  const where = `s3://${bucket}/${key}`;
  return {
    description: `manifest ${where}`,
    writtenLines: true,
    rereadable: true,
    async *batches() {
      let body: Readable;
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        body = response.Body as Readable;
      } catch (error) {
        const name = (error as { name?: string }).name ?? 'Error';
        const code = name === 'NoSuchKey' || name === 'NoSuchBucket' ? 'SOURCE_INVALID' : 'SOURCE_UNAVAILABLE';
        throw new LabelqError(code, `The manifest ${where} cannot be read: ${name}: ${(error as Error).message}`, { cause: error });
      }
      yield* manifestEntryBatches(body, format);
    },
  };
}
