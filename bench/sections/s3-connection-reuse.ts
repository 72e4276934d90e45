import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client, type S3Settings } from '@labelq/shared/s3-client';
import { progress } from '../lib/progress.ts';

export interface S3ReuseRow {
  client: 'one shared client (kept-alive connections)' | 'a new client per PUT';
  inFlight: number;
  puts: number;
  bytesPerObject: number;
  putsPerSecond: number;
}

/** PUTs of record-sized objects (one chunk of 64 records is about 20 KB) to the S3 server, reusing one client or not. */
export async function measureS3Reuse(settings: S3Settings, bucket: string, puts: number): Promise<S3ReuseRow[]> {
  const body = Buffer.alloc(20_000, 'x');
  const rows: S3ReuseRow[] = [];
  for (const inFlight of [1, 8]) {
    for (const shared of [true, false]) {
      const sharedClient = shared ? createS3Client(settings) : undefined;
      // One untimed PUT first, so that neither variant pays the process's first-request costs in its figure.
      const warm = createS3Client(settings);
      await warm.send(new PutObjectCommand({ Bucket: bucket, Key: 's3-reuse/warm-up', Body: body }));
      warm.destroy();
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < puts) {
            const i = next++;
            const client = sharedClient ?? createS3Client(settings);
            await client.send(new PutObjectCommand({ Bucket: bucket, Key: `s3-reuse/${shared}/${inFlight}/${i}.jsonl`, Body: body }));
            if (sharedClient === undefined) client.destroy();
          }
        }),
      );
      sharedClient?.destroy();
      const seconds = (performance.now() - started) / 1000;
      const row: S3ReuseRow = {
        client: shared ? 'one shared client (kept-alive connections)' : 'a new client per PUT',
        inFlight,
        puts,
        bytesPerObject: body.length,
        putsPerSecond: Math.round((puts / seconds) * 10) / 10,
      };
      rows.push(row);
      progress(`S3 PUTs, ${row.client}, ${inFlight} in flight: ${row.putsPerSecond}/s`);
    }
  }
  return rows;
}
