import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestBucket, freshName, missingTestServices, testS3Client, testS3Settings } from './harness/services.ts';
import { samplePhoto } from './support/hostile-images.ts';
import { labelqEnv, runLabelq, startLabelq, type RunningLabelq } from './support/labelq-process.ts';

/**
 * S3 credentials come from the standard AWS chain as well as from explicit settings: here a real producer and
 * worker get them only from a profile in a temporary AWS_SHARED_CREDENTIALS_FILE (no AWS_ACCESS_KEY_ID in the
 * environment); with no credentials anywhere the failure says so. (Environment keys are what every other S3
 * test uses: labelqEnv sets AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.)
 */
const missing = missingTestServices('redis', 's3');

describe.skipIf(missing !== undefined)('S3 credentials from the AWS default chain', () => {
  const work = mkdtempSync(join(tmpdir(), 'labelq-aws-profile-'));
  let worker: RunningLabelq | undefined;
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  /** The labelq environment without explicit keys; AWS' own variables decide where credentials come from. */
  const chainEnv = (queue: string, extra: Record<string, string>): NodeJS.ProcessEnv => {
    const env = labelqEnv(queue, { LABELQ_DEVICE: 'cpu', LABELQ_INTRA_OP_THREADS: '1', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: join(work, 'no-config'), ...extra });
    delete env['AWS_ACCESS_KEY_ID'];
    delete env['AWS_SECRET_ACCESS_KEY'];
    delete env['AWS_SESSION_TOKEN'];
    return env;
  };

  it('a profile in AWS_SHARED_CREDENTIALS_FILE: enqueue lists the bucket, the worker reads and writes S3', { timeout: 240_000 }, async () => {
    const s3 = testS3Settings();
    const bucket = await createTestBucket('aws-profile');
    await testS3Client().send(new PutObjectCommand({ Bucket: bucket, Key: 'images/tench.jpg', Body: samplePhoto('n01440764_tench.JPEG') }));
    const credentialsFile = join(work, 'credentials');
    writeFileSync(
      credentialsFile,
      `[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n\n[labelq-test]\naws_access_key_id = ${s3.accessKeyId}\naws_secret_access_key = ${s3.secretAccessKey}\n`,
    );
    const queue = freshName('aws-profile');
    const env = chainEnv(queue, { AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_PROFILE: 'labelq-test' });

    const enqueue = await runLabelq(['enqueue', `s3://${bucket}/images/`, '--run', 'profile-run', '--out', `s3://${bucket}/results/`], env);
    expect(enqueue.code, enqueue.stderr).toBe(0);
    worker = startLabelq(['worker'], env);
    let status: { finished?: boolean; imagesDone?: number; jobsFailed?: number } = {};
    const deadline = performance.now() + 180_000;
    while (performance.now() < deadline) {
      const reply = await runLabelq(['status', 'profile-run', '--json'], env);
      status = JSON.parse(reply.stdout) as typeof status;
      if (status.finished === true) break;
      expect(worker.child.exitCode, worker.output()).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(status).toMatchObject({ finished: true, imagesDone: 1, jobsFailed: 0 });
    const results = await runLabelq(['results', 'profile-run'], env);
    expect(results.stdout).toMatch(/"label":"tench"/);
    expect((await worker.stop('SIGTERM')).code).toBe(0);
  });

  it('no credentials anywhere: the command fails and says the credentials could not be loaded', async () => {
    const env = chainEnv(freshName('aws-none'), { AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials') });
    const enqueue = await runLabelq(['enqueue', 's3://any-bucket/images/', '--run', 'no-credentials', '--out', join(work, 'out')], env);
    expect(enqueue.code).toBe(1);
    expect(enqueue.stderr).toMatch(/credential/i);
  });
});
