import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import pLimit from 'p-limit';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { recordSchema, type ResultRecord } from '@labelq/shared/record';
import { createTestBucket, freshName, missingTestServices, sharedDataDir, testRedisUrl, testS3Client } from './harness/services.ts';
import { labelqEnv, runLabelq, startLabelq, type RunningLabelq } from './support/labelq-process.ts';

/**
 * The whole path on real services: the 500 photographs uploaded to the S3 server, enqueued from the s3://
 * prefix, labelled by two separate `labelq worker` processes, read back with `labelq results`.
 */
const missing = missingTestServices('redis', 's3');
const imagesDir = join(sharedDataDir(), 'imagenet-sample');

function groundTruth(): Map<string, number> {
  const truth = new Map<string, number>();
  for (const line of readFileSync(join(imagesDir, 'labels.tsv'), 'utf8').split('\n')) {
    const [file, index] = line.split('\t');
    if (file !== undefined && index !== undefined && /^\d+$/.test(index)) truth.set(file, Number(index));
  }
  return truth;
}

describe.skipIf(missing !== undefined)('end to end: S3 prefix → two worker processes → records in S3', () => {
  const workers: RunningLabelq[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
  });

  it('gives exactly one record per image, top-1 ≥ 0.87, and both workers take part', { timeout: 900_000 }, async () => {
    const truth = groundTruth();
    expect(truth.size).toBe(500);
    const bucket = await createTestBucket('e2e');
    const upload = pLimit(16);
    await Promise.all(
      [...truth.keys()].map((file) =>
        upload(() => testS3Client().send(new PutObjectCommand({ Bucket: bucket, Key: `images/${file}`, Body: readFileSync(join(imagesDir, file)) }))),
      ),
    );

    const queueName = freshName('e2e');
    const env = labelqEnv(queueName, { LABELQ_DEVICE: 'cpu', LABELQ_INTRA_OP_THREADS: '1', LABELQ_BATCH_SIZE: '16', LABELQ_CONCURRENCY: '2' });
    const enqueue = await runLabelq(['enqueue', `s3://${bucket}/images/`, '--run', 'e2e-run', '--chunk', '25', '--out', `s3://${bucket}/results/`], env);
    expect(enqueue.code, enqueue.stderr).toBe(0);
    expect(enqueue.stdout + enqueue.stderr).toMatch(/images\s+500/);
    expect(enqueue.stdout + enqueue.stderr).toMatch(/jobs\s+20/);

    // Enqueuing the same source into the same run again adds nothing.
    const again = await runLabelq(['enqueue', `s3://${bucket}/images/`, '--run', 'e2e-run', '--chunk', '25', '--out', `s3://${bucket}/results/`], env);
    expect(again.code, again.stderr).toBe(0);

    const started = performance.now();
    workers.push(startLabelq(['worker'], env), startLabelq(['worker'], env));

    let status: { finished: boolean; imagesDone: number; images: number; jobsFailed: number } | undefined;
    while (performance.now() - started < 840_000) {
      const reply = await runLabelq(['status', 'e2e-run', '--json'], env);
      expect(reply.code, reply.stderr).toBe(0);
      status = JSON.parse(reply.stdout) as typeof status;
      if (status?.finished === true) break;
      for (const worker of workers) expect(worker.child.exitCode, worker.output()).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    const seconds = (performance.now() - started) / 1000;
    expect(status).toMatchObject({ finished: true, images: 500, imagesDone: 500, jobsFailed: 0 });

    const results = await runLabelq(['results', 'e2e-run'], env);
    expect(results.code, results.stderr).toBe(0);
    const records: ResultRecord[] = results.stdout.trim().split('\n').map((line) => recordSchema.parse(JSON.parse(line)));
    const uris = records.map((record) => record.uri);
    expect(records).toHaveLength(500);
    expect(new Set(uris).size).toBe(500);
    expect(new Set(uris)).toEqual(new Set([...truth.keys()].map((file) => `s3://${bucket}/images/${file}`)));

    let top1 = 0;
    for (const record of records) {
      expect('error' in record, JSON.stringify(record)).toBe(false);
      if ('error' in record) continue;
      expect(record.model.name).toBe('resnet50-keras');
      expect(record.top).toHaveLength(5);
      if (record.top[0]?.index === truth.get(record.uri.split('/').pop()!)) top1++;
    }
    const accuracy = top1 / records.length;
    console.log(`e2e: 500 images in ${seconds.toFixed(1)} s (${(500 / seconds).toFixed(1)} images/s) with 2 worker processes; top-1 ${accuracy.toFixed(3)}`);
    expect(accuracy).toBeGreaterThanOrEqual(0.87);

    // Which worker processed each job: BullMQ records the worker's name on the job.
    const connection = createRedisConnection(testRedisUrl(), 'command');
    const queue = new Queue(queueName, { connection, prefix: 'bull' });
    const completed = await queue.getJobs(['completed'], 0, -1);
    const processedBy = new Set(completed.map((job) => job.processedBy));
    await queue.close();
    await connection.quit();
    expect(completed).toHaveLength(20);
    expect(processedBy.size).toBe(2);

    // SIGTERM: both workers stop cleanly.
    const exits = await Promise.all(workers.map((worker) => worker.stop('SIGTERM')));
    for (const exit of exits) expect(exit.code, exit.stderr).toBe(0);
  });
});
