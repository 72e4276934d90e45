import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { RunRegistry } from '@labelq/shared/run-registry';
import type { VerifyReport } from '@labelq/producer/operator/verify';
import { deleteQueueKeys } from '@labelq/producer/test-helpers';
import { createTestBucket, freshName, missingTestServices, testRedisUrl, testS3Client } from './harness/services.ts';
import { labelqEnv, runLabelq, startLabelq, type RunningLabelq } from './support/labelq-process.ts';
import { waitUntil } from './support/wait-until.ts';

/**
 * `labelq verify` on real services: a manifest with repeated URIs is enqueued (each URI once), a worker with the
 * null device (no fetch, no model: fast) writes the records to S3, verify passes; then one record object is
 * deleted and an extra object repeats an existing URI, and verify names both and exits 1.
 */
const missing = missingTestServices('redis', 's3');


describe.skipIf(missing !== undefined)('labelq verify (real Redis, S3 and worker process)', () => {
  const queueName = freshName('verify');
  let dir: string;
  let worker: RunningLabelq | undefined;
  const redis = createRedisConnection(testRedisUrl(), 'command');
  const registry = new RunRegistry(redis, 'bull', queueName);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labelq-verify-'));
  });

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await deleteQueueKeys(redis, 'bull', queueName);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  it('passes on a finished run, then names a deleted record object and a duplicated URI', { timeout: 120_000 }, async () => {
    const bucket = await createTestBucket('verify');
    const out = `s3://${bucket}/out/`;
    const run = 'verify-run';
    const uris = Array.from({ length: 10 }, (_, i) => `/data/verify/img-${i}.jpg`);
    const manifest = join(dir, 'list.txt');
    // Two repeats: the producer enqueues each URI once, at its first occurrence.
    await writeFile(manifest, [...uris.slice(0, 5), uris[1], ...uris.slice(5), uris[9]].join('\n') + '\n');
    const env = labelqEnv(queueName, { LABELQ_DEVICE: 'null' });

    const enqueue = await runLabelq(['enqueue', manifest, '--run', run, '--chunk', '4', '--out', out], env);
    expect(enqueue.code, enqueue.stderr).toBe(0);
    expect(enqueue.stdout).toMatch(/images\s+10\n/);
    expect(enqueue.stdout).toMatch(/dropped\s+2 repeated URIs/);
    expect(enqueue.stdout).toMatch(/jobs\s+3\n/);

    worker = startLabelq(['worker'], env);
    await waitUntil('the run is finished', async () => (await registry.status(run)).finished);
    await worker.stop();
    expect((await registry.status(run)).imagesDone).toBe(10);

    const passed = await runLabelq(['verify', run], env);
    expect(passed.code, passed.stdout + passed.stderr).toBe(0);
    expect(passed.stdout).toContain('10 URIs enqueued in 3 chunks');
    expect(passed.stdout).toContain('OK: every enqueued URI has exactly one record.');

    // Break the run: chunk 1's object (img-4 … img-7) disappears, and a stray object repeats img-0's record.
    const s3 = testS3Client();
    const first = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `out/${run}/records/00000000.jsonl` }));
    const img0 = (await first.Body!.transformToString()).split('\n')[0]!;
    expect(JSON.parse(img0)).toMatchObject({ uri: uris[0] });
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `out/${run}/records/00000001.jsonl` }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `out/${run}/records/00000099.jsonl`, Body: `${img0}\n` }));

    const failed = await runLabelq(['verify', run], env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/VERIFY_FAILED: Run "verify-run" does not verify: 4 enqueued URIs have no record; 1 URI has more than one record/);
    expect(failed.stdout).toContain('URIs without a record: 4');
    for (const uri of uris.slice(4, 8)) expect(failed.stdout).toContain(`  ${uri}\n`);
    expect(failed.stdout).toContain(`URIs with more than one record: 1\n  ${uris[0]} (2 records)`);

    const json = await runLabelq(['verify', run, '--json'], env);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as VerifyReport;
    expect(report).toMatchObject({ ok: false, chunks: 3, chunksFromManifest: 3, enqueuedUris: 10, records: 7, recordObjects: 3 });
    expect(report.missing).toEqual({ count: 4, first: uris.slice(4, 8) });
    expect(report.duplicated).toEqual({ count: 1, first: [{ uri: uris[0], records: 2 }] });
    expect(report.unexpected.count).toBe(0);

    // A record of a URI never enqueued, and an object that is not records, are named too.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `out/${run}/records/00000098.jsonl`, Body: img0.replace(uris[0]!, '/data/stray.jpg') }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `out/${run}/records/00000097.jsonl`, Body: 'not json\n' }));
    // --out: the same check from the store alone (the enqueued manifest), without Redis.
    const storeOnly = await runLabelq(['verify', run, '--json', '--out', out], { ...env, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(storeOnly.code, storeOnly.stderr).toBe(1);
    const fromStore = JSON.parse(storeOnly.stdout) as VerifyReport;
    expect(fromStore).toMatchObject({ chunks: 3, chunksFromManifest: 3, enqueuedUris: 10 });
    expect(fromStore.missing.count).toBe(4);
    expect(fromStore.unexpected).toEqual({ count: 1, first: ['/data/stray.jpg'] });
    expect(fromStore.unreadable.count).toBe(1);
    expect(fromStore.unreadable.first[0]).toMatch(/Line 1 of s3:\/\/.*00000097\.jsonl is not JSON/);
  });
});
