import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { LabelqError } from '@labelq/shared/errors';
import { hasImageExtension, type Source, type SourceEntry } from './source-types.ts';

/**
 * The image objects under an S3 prefix, one batch per page (ListObjectsV2, 1000 keys a page, in the store's key order, which S3
 * defines as lexicographic by UTF-8 bytes). Yields `s3://bucket/key`; keys without an image extension are
 * left out. Each entry carries the object's ETag and LastModified (scheduled back-fills use
 * them to skip objects already labelled). The prefix is used as written: `s3://b/photos/` lists that folder, `s3://b/photos` also matches
 * `photos2/…`, as `aws s3 ls` does.
 */
export async function* s3PrefixEntryBatches(client: S3Client, bucket: string, prefix: string): AsyncIterable<SourceEntry[]> {
  let ContinuationToken: string | undefined;
  do {
    let page;
    try {
      page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
    } catch (error) {
      const name = (error as { name?: string }).name ?? 'Error';
      const code = name === 'NoSuchBucket' ? 'SOURCE_INVALID' : 'SOURCE_UNAVAILABLE';
      throw new LabelqError(code, `Could not list s3://${bucket}/${prefix}: ${name}: ${(error as Error).message}`, { cause: error });
    }
    const batch: SourceEntry[] = [];
    for (const object of page.Contents ?? []) {
      if (object.Key !== undefined && hasImageExtension(object.Key)) {
        batch.push({ uri: `s3://${bucket}/${object.Key}`, etag: object.ETag, lastModifiedMs: object.LastModified?.getTime() });
      }
    }
    if (batch.length > 0) yield batch;
    ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (ContinuationToken !== undefined);
}

export function s3PrefixSource(client: S3Client, bucket: string, prefix: string): Source {
  return {
    description: `s3://${bucket}/${prefix}`,
    writtenLines: false,
    rereadable: true,
    batches: () => s3PrefixEntryBatches(client, bucket, prefix),
  };
}
