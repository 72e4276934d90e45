import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import { RunRegistry } from '@labelq/shared/run-registry';
import { normaliseStoreUrl, openStore } from '@labelq/shared/store/open-store';
import { readEnqueuedManifest } from '@labelq/producer/operator/enqueued-manifest';
import { deleteQueueKeys } from '@labelq/producer/test-helpers';
import { freshName, missingTestServices, testRedisUrl } from './harness/services.ts';
import { labelqEnv, runLabelq } from './support/labelq-process.ts';

/**
 * The producer's policies for a manifest with malformed lines and repeated URIs (docs/operator-commands.md):
 * strict by default (the bad lines are named, nothing is enqueued, nothing is written), --skip-invalid enqueues
 * the rest; a repeated URI is enqueued once, at its first occurrence, and the count dropped is reported. The
 * enqueued manifest in the store holds exactly what was enqueued.
 */
const missing = missingTestServices('redis');

describe.skipIf(missing !== undefined)('enqueue: malformed lines and duplicate URIs (real Redis, labelq process)', () => {
  const queueName = freshName('policies');
  let dir: string;
  const redis = createRedisConnection(testRedisUrl(), 'command');
  const registry = new RunRegistry(redis, 'bull', queueName);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labelq-policies-'));
  });

  afterAll(async () => {
    await deleteQueueKeys(redis, 'bull', queueName);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  it('strict: names the bad lines and enqueues and writes nothing; --skip-invalid: the valid, distinct URIs', { timeout: 60_000 }, async () => {
    const manifest = join(dir, 'list.jsonl');
    await writeFile(
      manifest,
      [
        '{"uri": "/data/a.jpg"}', // 1
        '{"uri": "/data/b.jpg"', // 2: not JSON
        '{"uri": "/data/a.jpg", "note": "again"}', // 3: repeat of line 1
        '{"path": "/data/c.jpg"}', // 4: no "uri"
        '{"uri": "relative/d.jpg"}', // 5: not a valid URI
        '{"uri": "/data/e.jpg"}', // 6
        '{"uri": "/data/e.jpg"}', // 7: repeat of line 6
        '{"uri": "/data/f.jpg"}', // 8
      ].join('\n') + '\n',
    );
    const out = join(dir, 'out');
    const env = labelqEnv(queueName);

    const strict = await runLabelq(['enqueue', manifest, '--run', 'strict', '--out', out], env);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain(`labelq: MANIFEST_LINE_INVALID: The manifest ${manifest} has 3 invalid lines; nothing was enqueued.`);
    expect(strict.stderr).toMatch(/line 2: it is not valid JSON/);
    expect(strict.stderr).toMatch(/line 4: its JSON object has no string field "uri"/);
    expect(strict.stderr).toMatch(/line 5: The URI "relative\/d\.jpg" is not valid/);
    expect(await registry.getRun('strict')).toBeUndefined();
    expect(await readdir(out).catch(() => [])).toEqual([]);

    const skipping = await runLabelq(['enqueue', manifest, '--run', 'skipping', '--chunk', '2', '--out', out, '--skip-invalid'], env);
    expect(skipping.code, skipping.stderr).toBe(0);
    expect(skipping.stderr).toContain('Skipped 3 invalid entries of the manifest');
    expect(skipping.stdout).toMatch(/images\s+3\n/);
    expect(skipping.stdout).toMatch(/dropped\s+2 repeated URIs/);
    expect(skipping.stdout).toMatch(/jobs\s+2\n/);
    expect(await registry.chunkCounts('skipping')).toEqual(new Map([[0, 2], [1, 1]]));

    const enqueued = await readEnqueuedManifest(openStore(normaliseStoreUrl(out), () => {
      throw new Error('no S3 here');
    }), 'skipping');
    expect(enqueued.problems).toEqual([]);
    expect([...enqueued.chunks.entries()]).toEqual([
      [0, ['/data/a.jpg', '/data/e.jpg']],
      [1, ['/data/f.jpg']],
    ]);

    // Enqueuing the same manifest again adds nothing and writes no new manifest object.
    const again = await runLabelq(['enqueue', manifest, '--run', 'skipping', '--out', out, '--skip-invalid'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/jobs\s+2 \(0 added, 2 were already enqueued\)/);
    expect(await readdir(join(out, 'skipping', 'enqueued'))).toEqual(['00000000.jsonl']);
  });

  it.skipIf(missingTestServices('s3') !== undefined)('a store that refuses writes stops enqueue before the run is registered', { timeout: 60_000 }, async () => {
    const manifest = join(dir, 'two.txt');
    await writeFile(manifest, '/data/a.jpg\n/data/b.jpg\n');
    const env = labelqEnv(queueName, { LABELQ_STORE_RETRY_ATTEMPTS: '1' });
    const refused = await runLabelq(['enqueue', manifest, '--run', 'no-bucket', '--out', `s3://${freshName('absent')}/out/`], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/labelq: STORE_UNAVAILABLE: Could not write s3:\/\/absent-[^/]+\/out\/no-bucket\/enqueued\/00000000\.jsonl: NoSuchBucket/);
    expect(await registry.getRun('no-bucket')).toBeUndefined();
  });
});
