import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LabelqError } from '../errors.ts';
import type { RecordStore } from './record-store.ts';

/** An S3 bucket and prefix as a store. Bodies are sent as buffers (works with every S3-compatible server). */
export class S3Store implements RecordStore {
  readonly url: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;

  constructor(client: S3Client, bucket: string, prefix: string) {
    this.client = client;
    this.bucket = bucket;
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.url = `s3://${bucket}/${this.prefix}`;
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const Body = typeof body === 'string' ? Buffer.from(body) : body;
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body, ContentType: 'application/x-ndjson' }));
    } catch (error) {
      throw storeError('write', `s3://${this.bucket}/${this.prefix}${key}`, error);
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      if (response.Body === undefined) return Buffer.alloc(0);
      return Buffer.from(await response.Body.transformToByteArray());
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw storeError('read', `s3://${this.bucket}/${this.prefix}${key}`, error);
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    let ContinuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken }),
        );
      } catch (error) {
        throw storeError('list', `s3://${this.bucket}/${this.prefix}${prefix}`, error);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield object.Key.slice(this.prefix.length);
      }
      ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (ContinuationToken !== undefined);
  }
}

function storeError(operation: string, where: string, error: unknown): LabelqError {
  const name = (error as { name?: string }).name ?? 'Error';
  const message = (error as Error).message ?? String(error);
  return new LabelqError('STORE_UNAVAILABLE', `Could not ${operation} ${where}: ${name}: ${message}`, { cause: error });
}
