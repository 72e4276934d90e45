import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LabelqError } from '../errors.ts';
import type { RecordStore } from './record-store.ts';
import { defaultStoreRetryPolicy, withStoreRetries, type StoreRetryPolicy } from './transient-retry.ts';

/**
 * An S3 bucket and prefix as a store. Bodies are sent as buffers (works with every S3-compatible server).
 * Every operation is retried through short outages (`transient-retry.ts`); one that still fails throws
 * STORE_UNAVAILABLE (retryable) naming the object, the number of tries and the last error.
 */
export class S3Store implements RecordStore {
  readonly url: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  readonly retry: StoreRetryPolicy;

  constructor(client: S3Client, bucket: string, prefix: string, retry: StoreRetryPolicy = defaultStoreRetryPolicy) {
    this.client = client;
    this.bucket = bucket;
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.url = `s3://${bucket}/${this.prefix}`;
    this.retry = retry;
  }

  /** `send` through the retry policy; a final failure becomes STORE_UNAVAILABLE (NoSuchKey is passed on as is). */
  private async sendWithRetries<T>(operation: string, where: string, send: () => Promise<T>): Promise<T> {
    let tries = 0;
    try {
      return await withStoreRetries(this.retry, () => {
        tries++;
        return send();
      });
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') throw error;
      throw storeError(operation, where, error, tries);
    }
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const Body = typeof body === 'string' ? Buffer.from(body) : body;
    await this.sendWithRetries('write', `s3://${this.bucket}/${this.prefix}${key}`, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body, ContentType: 'application/x-ndjson' })),
    );
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await this.sendWithRetries('read', `s3://${this.bucket}/${this.prefix}${key}`, async () => {
        const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
        if (response.Body === undefined) return Buffer.alloc(0);
        return Buffer.from(await response.Body.transformToByteArray());
      });
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    let ContinuationToken: string | undefined;
    do {
      const page = await this.sendWithRetries('list', `s3://${this.bucket}/${this.prefix}${prefix}`, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken })),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield object.Key.slice(this.prefix.length);
      }
      ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (ContinuationToken !== undefined);
  }
}

function storeError(operation: string, where: string, error: unknown, tries: number): LabelqError {
  const name = (error as { name?: string }).name ?? 'Error';
  const code = (error as { code?: string }).code;
  const message = (error as Error).message || code || String(error);
  const triesText = tries > 1 ? ` (tried ${tries} times)` : '';
  return new LabelqError('STORE_UNAVAILABLE', `Could not ${operation} ${where}${triesText}: ${name}: ${message}`, { cause: error, details: { tries } });
}
