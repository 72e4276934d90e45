import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LabelqError, itemError } from '@labelq/shared/errors';
import { parseS3Url } from '@labelq/shared/s3-client';

export interface S3ItemFetcherLimits {
  maxImageBytes: number;
  timeoutMs: number;
  /** Buckets items may be read from (LABELQ_S3_ALLOWED_BUCKETS); empty or unset: any bucket. */
  allowedBuckets?: readonly string[];
}

/**
 * Reads `s3://bucket/key` items. NoSuchKey and AccessDenied are item errors (the record says so); a store
 * that does not answer is a retryable job error, so the job comes back later rather than writing
 * "not found" for images that exist.
 */
export function createS3ItemFetcher(client: S3Client, limits: S3ItemFetcherLimits) {
  const allowedBuckets = new Set(limits.allowedBuckets ?? []);
  return {
    async fetch(uri: string, signal?: AbortSignal): Promise<Buffer> {
      const { bucket, key } = parseS3Url(uri);
      if (allowedBuckets.size > 0 && !allowedBuckets.has(bucket)) {
        throw itemError(
          'FETCH_BUCKET_NOT_ALLOWED',
          `${uri} is in the bucket "${bucket}", which is not in LABELQ_S3_ALLOWED_BUCKETS; it was not read.`,
        );
      }
      const timeout = AbortSignal.timeout(limits.timeoutMs);
      const abortSignal = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal });
        if (response.ContentLength !== undefined && response.ContentLength > limits.maxImageBytes) {
          response.Body?.transformToWebStream().cancel().catch(() => undefined);
          throw itemError('FETCH_TOO_LARGE', `${uri} is ${response.ContentLength} bytes, over the limit of ${limits.maxImageBytes} bytes.`);
        }
        const bytes = await response.Body?.transformToByteArray();
        if (bytes !== undefined && bytes.length > limits.maxImageBytes) {
          throw itemError('FETCH_TOO_LARGE', `${uri} is ${bytes.length} bytes, over the limit of ${limits.maxImageBytes} bytes.`);
        }
        return Buffer.from(bytes ?? new Uint8Array(0));
      } catch (error) {
        if (error instanceof LabelqError) throw error;
        const name = (error as { name?: string }).name ?? '';
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
          throw itemError('FETCH_NOT_FOUND', `${uri} does not exist (S3 ${name || '404'}).`, error);
        }
        if (name === 'NoSuchBucket') throw itemError('FETCH_NOT_FOUND', `The bucket of ${uri} does not exist.`, error);
        if (name === 'AccessDenied' || status === 403) {
          throw itemError('FETCH_FORBIDDEN', `Access to ${uri} was denied (S3 ${name || '403'}).`, error);
        }
        if (timeout.aborted) throw itemError('FETCH_TIMEOUT', `Reading ${uri} took longer than ${limits.timeoutMs} ms.`, error);
        throw new LabelqError('SOURCE_UNAVAILABLE', `Could not read ${uri}: ${name || 'Error'}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    },
  };
}
