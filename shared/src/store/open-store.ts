import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { parseS3Url } from '../s3-client.ts';
import { LocalStore } from './local-store.ts';
import { S3Store } from './s3-store.ts';
import type { RecordStore } from './record-store.ts';
import type { StoreRetryPolicy } from './transient-retry.ts';

/**
 * Normalises what the user wrote for --out into a store URL: `s3://bucket/prefix/` stays, a folder becomes an
 * absolute `file://` URL (relative folders resolve against the current directory).
 */
export function normaliseStoreUrl(out: string, cwd: string = process.cwd()): string {
  if (out.startsWith('s3://')) {
    const { bucket, key } = parseS3Url(out);
    return `s3://${bucket}/${key === '' || key.endsWith('/') ? key : `${key}/`}`;
  }
  if (out.startsWith('file://')) return new LocalStore(fileURLToPath(out)).url;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(out)) throw new Error(`"${out}" is not a store: use s3://bucket/prefix or a folder`);
  return new LocalStore(isAbsolute(out) ? out : resolve(cwd, out)).url;
}

/** Opens the store a normalised URL names. `s3Client` is needed for s3:// stores; `retry` applies to them. */
export function openStore(storeUrl: string, s3Client: () => S3Client, retry?: StoreRetryPolicy): RecordStore {
  if (storeUrl.startsWith('s3://')) {
    const { bucket, key } = parseS3Url(storeUrl);
    return new S3Store(s3Client(), bucket, key, retry);
  }
  return new LocalStore(fileURLToPath(storeUrl));
}
