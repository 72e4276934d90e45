import { DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultRecord } from '@labelq/shared/record';
import { openStore } from '@labelq/shared/store/open-store';
import { recordKey } from '@labelq/shared/store/record-store';
import { createTestBucket, missingTestServices, testS3Client } from '../../test/harness/services.ts';
import { readRunRecords } from './results.ts';
import { checkedItems, emptySkipped } from './sources/checked-items.ts';
import { collect } from './sources/collect.ts';
import { openSource } from './sources/source.ts';

const missing = missingTestServices('s3');

describe.skipIf(missing !== undefined)('S3: manifests stored in a bucket, records read from a bucket', () => {
  let bucket: string;

  beforeAll(async () => {
    bucket = await createTestBucket('labelq-s3-round-trip');
  });

  afterAll(async () => {
    if (bucket === undefined) return;
    const client = testS3Client();
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const object of page.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key! }));
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  });

  it('reads an s3:// .jsonl manifest, twice in strict mode', async () => {
    const body = ['{"uri": "s3://photos/a.jpg"}', '# comment', '{"uri": "https://example.com/b.png"}'].join('\n');
    await testS3Client().send(new PutObjectCommand({ Bucket: bucket, Key: 'lists/today.jsonl', Body: body }));
    const source = await openSource(`s3://${bucket}/lists/today.jsonl`, { s3: testS3Client, stdin: Readable.from([]) });
    expect(source.description).toBe(`manifest s3://${bucket}/lists/today.jsonl`);
    expect(await collect(checkedItems(source, false, emptySkipped()))).toEqual([
      { uri: 's3://photos/a.jpg', line: 1 },
      { uri: 'https://example.com/b.png', line: 3 },
    ]);
  });

  it('fails with SOURCE_INVALID for a manifest object that does not exist', async () => {
    const source = await openSource(`s3://${bucket}/lists/missing.txt`, { s3: testS3Client, stdin: Readable.from([]) });
    await expect(collect(checkedItems(source, false, emptySkipped()))).rejects.toMatchObject({
      code: 'SOURCE_INVALID',
      message: expect.stringContaining(`s3://${bucket}/lists/missing.txt`),
    });
  });

  it('reads a run\'s records from an S3 store', async () => {
    const store = openStore(`s3://${bucket}/out/`, testS3Client);
    const records: ResultRecord[] = [0, 1, 2].map((chunk) => ({ uri: `s3://photos/${chunk}.jpg`, run: 'r3', error: { code: 'FETCH_NOT_FOUND', message: 'gone' } }));
    for (const [chunk, record] of records.entries()) await store.put(recordKey('r3', chunk), `${JSON.stringify(record)}\n`);
    expect(await collect(readRunRecords(store, 'r3'))).toEqual(records);
  });
});
