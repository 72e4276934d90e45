import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { recordSchema } from '@labelq/shared/record';
import { sharedDataDir } from './harness/services.ts';
import { runLabelq } from './support/labelq-process.ts';

/**
 * `labelq label` on embedded defaults: no REDIS_URL, so it starts its own redis-server, runs an in-process
 * worker and leaves records in a folder. Broken files end as error records; the command still succeeds.
 */
const redisInstalled = (() => {
  try {
    execFileSync('redis-server', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!redisInstalled)('labelq label (private Redis, in-process worker, folder store)', () => {
  const work = mkdtempSync(join(tmpdir(), 'labelq-label-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('labels a folder end to end, with an error record for each broken file', { timeout: 300_000 }, async () => {
    const images = join(work, 'images');
    const out = join(work, 'out');
    execFileSync('mkdir', ['-p', join(images, 'nested')]);
    const sample = join(sharedDataDir(), 'imagenet-sample');
    const picked = readdirSync(sample).filter((name) => name.endsWith('.JPEG')).slice(0, 12);
    picked.forEach((name, i) => copyFileSync(join(sample, name), join(i % 2 === 0 ? images : join(images, 'nested'), name)));
    writeFileSync(join(images, 'empty.jpg'), '');
    writeFileSync(join(images, 'notes.jpg'), 'this is a text file, not a JPEG\n');
    writeFileSync(join(images, 'readme.txt'), 'not an image extension: not enqueued');

    const env: NodeJS.ProcessEnv = { ...process.env, LABELQ_DEVICE: 'cpu', LABELQ_LOG_LEVEL: 'warn' };
    delete env['REDIS_URL'];
    const label = await runLabelq(['label', images, '--out', out, '--run', 'label-test', '--chunk', '5'], env);
    expect(label.code, label.stderr).toBe(0);
    expect(label.stderr).toMatch(/Started a private redis-server on 127\.0\.0\.1:\d+/);
    expect(label.stderr).toMatch(/Run label-test finished: 14 of 14 images have records \(2 error records\), 0 failed jobs/);
    expect(label.stderr).toMatch(/tench|goldfish|great_white_shark|shark|hen/);

    const results = await runLabelq(['results', 'label-test', '--out', out], env);
    expect(results.code, results.stderr).toBe(0);
    const records = results.stdout.trim().split('\n').map((line) => recordSchema.parse(JSON.parse(line)));
    expect(records).toHaveLength(14);
    const errors = Object.fromEntries(records.flatMap((r) => ('error' in r ? [[r.uri.split('/').pop(), r.error.code]] : [])));
    expect(errors).toEqual({ 'empty.jpg': 'IMAGE_EMPTY', 'notes.jpg': 'IMAGE_DECODE_FAILED' });
    expect(readdirSync(join(out, 'label-test', 'records')).sort()).toEqual(['00000000.jsonl', '00000001.jsonl', '00000002.jsonl']);

    const csv = await runLabelq(['results', 'label-test', '--out', out, '--format', 'csv'], env);
    expect(csv.stdout.split('\n')[0]).toMatch(/^uri,run,top1_index/);

    // The private redis-server is gone with the command.
    const port = /127\.0\.0\.1:(\d+)/.exec(label.stderr)?.[1];
    expect(() => execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'pipe' })).toThrow();
  });

  it('says clearly when the source does not exist', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, LABELQ_DEVICE: 'cpu' };
    delete env['REDIS_URL'];
    const label = await runLabelq(['label', join(work, 'no-such-folder'), '--out', join(work, 'out2')], env);
    expect(label.code).toBe(1);
    expect(label.stderr).toMatch(/no-such-folder/);
    expect(label.stderr).not.toMatch(/\n\s+at /);
  });
});
