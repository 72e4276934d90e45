import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { createS3Client, type S3Settings } from '@labelq/shared/s3-client';
import type { TestServices } from './provided-context.ts';
import { s3TestServerSettings, type S3TestServerAccess } from './s3-test-server-access.ts';

/**
 * What tests use to reach the run's Redis and S3 server (started once by global-setup.ts).
 * Isolate by name: every test takes fresh queue names, key prefixes and buckets from freshName().
 */
export { repoRoot } from '../support/shared-data.ts';

type ServiceName = keyof TestServices;

function services(): TestServices {
  return inject('labelqTestServices');
}

/** Undefined when all the named services are up; otherwise a sentence saying which are missing and why. */
export function missingTestServices(...names: ServiceName[]): string | undefined {
  const reasons = names.flatMap((name) => {
    const service = services()[name];
    return 'unavailable' in service ? [`${name}: ${service.unavailable}`] : [];
  });
  return reasons.length === 0 ? undefined : reasons.join('; ');
}

/** redis://127.0.0.1:PORT of the run's Redis (or LABELQ_TEST_REDIS_URL). */
export function testRedisUrl(): string {
  const redis = services().redis;
  if ('unavailable' in redis) throw new Error(`This test needs Redis, which is unavailable: ${redis.unavailable}`);
  return redis.url;
}

/** Settings for shared/src/s3-client.ts pointing at the run's S3 server: path-style, WHEN_REQUIRED checksums. */
/** The run's S3 test server: where it answers and with which keys. */
export function testS3Server(): S3TestServerAccess {
  const s3 = services().s3;
  if ('unavailable' in s3) throw new Error(`This test needs an S3 server, which is unavailable: ${s3.unavailable}`);
  return s3;
}

export function testS3Settings(): S3Settings {
  return s3TestServerSettings(testS3Server(), 16);
}

let sharedClient: S3Client | undefined;
/** One S3 client per test file (worker process), made from testS3Settings(). */
export function testS3Client(): S3Client {
  sharedClient ??= createS3Client(testS3Settings());
  return sharedClient;
}

let nameCounter = 0;
/**
 * A name no other test in this run uses: `<prefix>-<pid>-<time>-<n>-<random>`, lowercase letters, digits and
 * hyphens, at most 63 characters, so it is a valid S3 bucket name as well as a queue name or key prefix.
 */
export function freshName(prefix = 'test'): string {
  const cleanPrefix = prefix.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 28).replace(/-+$/, '');
  nameCounter += 1;
  const unique = [process.pid, Date.now(), nameCounter].map((n) => n.toString(36)).join('-');
  return `${cleanPrefix === '' ? 'test' : cleanPrefix}-${unique}-${randomBytes(3).toString('hex')}`;
}

/** Creates a fresh, empty bucket on the run's S3 server and returns its name. */
export async function createTestBucket(prefix = 'labelq-test'): Promise<string> {
  const bucket = freshName(prefix);
  await testS3Client().send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

export { sharedDataDir } from '../support/shared-data.ts';
