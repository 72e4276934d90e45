import { DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestBucket, missingTestServices, testS3Client } from '../../../test/harness/services.ts';
import { collect } from './collect.ts';
import { sourceEntries } from './source-types.ts';
import { s3PrefixSource } from './s3-prefix-source.ts';

const missing = missingTestServices('s3');

describe.skipIf(missing !== undefined)('s3PrefixSource', () => {
  let bucket: string;
  const imageCount = 1050; // more than one ListObjectsV2 page (1000 keys)

  beforeAll(async () => {
    bucket = await createTestBucket('labelq-s3-source');
    const client = testS3Client();
    const keys = [
      ...Array.from({ length: imageCount }, (_, i) => `photos/${String(i).padStart(5, '0')}.jpg`),
      'photos/readme.txt',
      'photos/nested/deeper.PNG',
      'photos2/outside.jpg',
      'other/x.jpg',
    ];
    const limit = pLimit(16);
    const startedMs = Date.now();
    await Promise.all(keys.map((Key) => limit(() => client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' })))));
    console.log(`put ${keys.length} objects in ${Date.now() - startedMs} ms`);
  }, 240_000);

  afterAll(async () => {
    if (bucket === undefined) return;
    const client = testS3Client();
    const limit = pLimit(16);
    for (;;) {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      const keys = (page.Contents ?? []).map((object) => object.Key!);
      if (keys.length === 0) break;
      // One DELETE per object: the Swift test server wants Content-MD5 on DeleteObjects, which WHEN_REQUIRED omits.
      await Promise.all(keys.map((Key) => limit(() => client.send(new DeleteObjectCommand({ Bucket: bucket, Key })))));
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  }, 240_000);

  it('lists every image under the prefix across pages, in key order, as s3:// URIs', async () => {
    const uris = (await collect(sourceEntries(s3PrefixSource(testS3Client(), bucket, 'photos/')))).map((entry) => entry.uri);
    expect(uris).toHaveLength(imageCount + 1);
    expect(uris[0]).toBe(`s3://${bucket}/photos/00000.jpg`);
    expect(uris[imageCount - 1]).toBe(`s3://${bucket}/photos/${String(imageCount - 1).padStart(5, '0')}.jpg`);
    expect(uris).toContain(`s3://${bucket}/photos/nested/deeper.PNG`);
    expect(uris).not.toContain(`s3://${bucket}/photos/readme.txt`);
    expect(uris).not.toContain(`s3://${bucket}/photos2/outside.jpg`);
    expect([...uris].sort()).toEqual(uris);
  });

  it('uses the prefix as written (like aws s3 ls) and lists the whole bucket for an empty prefix', async () => {
    const withoutSlash = await collect(sourceEntries(s3PrefixSource(testS3Client(), bucket, 'photos')));
    expect(withoutSlash).toHaveLength(imageCount + 2);
    const whole = await collect(sourceEntries(s3PrefixSource(testS3Client(), bucket, '')));
    expect(whole).toHaveLength(imageCount + 3);
  });

  it('fails with SOURCE_INVALID for a bucket that does not exist', async () => {
    await expect(collect(sourceEntries(s3PrefixSource(testS3Client(), `${bucket}-missing`, 'x/')))).rejects.toMatchObject({
      code: 'SOURCE_INVALID',
      message: expect.stringContaining(`s3://${bucket}-missing/x/`),
    });
  });
});
