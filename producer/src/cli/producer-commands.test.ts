import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection } from '@labelq/shared/redis-connection';
import type { ResultRecord } from '@labelq/shared/record';
import { LocalStore } from '@labelq/shared/store/local-store';
import { recordKey } from '@labelq/shared/store/record-store';
import { freshName, missingTestServices, repoRoot, testRedisUrl } from '../../../test/harness/services.ts';
import { deleteQueueKeys } from '../test-helpers.ts';
import { runCli } from './main.ts';

interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const parts: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => parts.push(chunk));
  return { stream, text: () => Buffer.concat(parts).toString('utf8') };
}

const missing = missingTestServices('redis');

describe.skipIf(missing !== undefined)('labelq-producer commands (real Redis)', () => {
  let dir: string;
  let outDir: string;
  let env: NodeJS.ProcessEnv;
  const queueName = freshName('cli');

  async function cli(args: string[], stdinText = ''): Promise<CliOutcome> {
    const stdout = capture();
    const stderr = capture();
    const code = await runCli(['node', 'labelq-producer', ...args], undefined, {
      env,
      cwd: dir,
      stdin: Readable.from([stdinText]),
      stdout: stdout.stream,
      stderr: stderr.stream,
    });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labelq-cli-'));
    outDir = join(dir, 'out');
    env = { REDIS_URL: testRedisUrl(), LABELQ_QUEUE: queueName, LABELQ_OUT: outDir, LABELQ_LOG_LEVEL: 'silent' };
    await mkdir(join(dir, 'images', 'nested'), { recursive: true });
    for (const file of ['a.jpg', 'b.png', 'nested/c.JPG', 'nested/notes.txt']) await writeFile(join(dir, 'images', file), 'x');
  });

  afterAll(async () => {
    const redis = createRedisConnection(testRedisUrl(), 'command');
    await deleteQueueKeys(redis, 'bull', queueName);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  it('enqueue: a folder, then again into the same run (nothing added)', async () => {
    const first = await cli(['enqueue', 'images', '--run', 'cli-folder', '--chunk', '2']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('run      cli-folder\n');
    expect(first.stdout).toContain('images   3\n');
    expect(first.stdout).toContain('jobs     2\n');
    expect(first.stdout).toContain(`records  file://${outDir}\n`);

    const again = await cli(['enqueue', 'images', '--run', 'cli-folder']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('jobs     2 (0 added, 2 were already enqueued)');
  });

  it('status: counts in words, and as JSON', async () => {
    const text = await cli(['status', 'cli-folder']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('run cli-folder: queued');
    expect(text.stdout).toMatch(/queued\s+3 \(100\.0 %\)/);
    expect(text.stdout).toContain(`source       folder ${join(dir, 'images')}`);

    const json = await cli(['status', 'cli-folder', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ state: 'queued', images: 3, jobs: 2, imagesDone: 0, meta: { run: 'cli-folder', chunkSize: 2 } });
  });

  it('results: the records in the run\'s store, as JSON Lines and as CSV', async () => {
    const store = new LocalStore(outDir);
    const records: ResultRecord[] = [
      { uri: join(dir, 'images/a.jpg'), run: 'cli-folder', model: { name: 'm', sha256: 'x' }, top: [{ index: 1, wnid: 'n01', label: 'goldfish', p: 0.9 }] },
      { uri: join(dir, 'images/b.png'), run: 'cli-folder', error: { code: 'IMAGE_DECODE_FAILED', message: 'Bad, "very" bad.' } },
    ];
    await store.put(recordKey('cli-folder', 0), records.map((r) => `${JSON.stringify(r)}\n`).join(''));

    const jsonl = await cli(['results', 'cli-folder']);
    expect(jsonl.code).toBe(0);
    expect(jsonl.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual(records);

    const csv = await cli(['results', 'cli-folder', '--format', 'csv']);
    expect(csv.stdout.split('\r\n')).toEqual([
      'uri,run,top1_index,top1_wnid,top1_label,top1_p,top_k,error_code,error_message',
      `${join(dir, 'images/a.jpg')},cli-folder,1,n01,goldfish,0.9,"[{""index"":1,""wnid"":""n01"",""label"":""goldfish"",""p"":0.9}]",,`,
      `${join(dir, 'images/b.png')},cli-folder,,,,,,IMAGE_DECODE_FAILED,"Bad, ""very"" bad."`,
      '',
    ]);

    const badFormat = await cli(['results', 'cli-folder', '--format', 'xml']);
    expect(badFormat.code).toBe(1);
    expect(badFormat.stderr).toContain('xml');
  });

  it('enqueue: manifest lines are checked first (strict), or skipped with --skip-invalid', async () => {
    await writeFile(join(dir, 'list.txt'), '/data/a.jpg\nrelative.jpg\n# fine\n/data/b.jpg\n');
    const strict = await cli(['enqueue', 'list.txt', '--run', 'cli-strict']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain(`labelq: MANIFEST_LINE_INVALID: The manifest ${join(dir, 'list.txt')} has 1 invalid line; nothing was enqueued.`);
    expect(strict.stderr).toContain('line 2: The URI "relative.jpg" is not valid');
    expect(strict.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect((await cli(['status', 'cli-strict'])).code).toBe(1);

    const skipping = await cli(['enqueue', 'list.txt', '--run', 'cli-skip', '--skip-invalid']);
    expect(skipping.code).toBe(0);
    expect(skipping.stderr).toContain('Skipped 1 invalid entry of the manifest');
    expect(skipping.stderr).toContain('line 2: ');
    expect(skipping.stdout).toContain('images   2\n');
  });

  it('enqueue: standard input, with a generated run id', async () => {
    const result = await cli(['enqueue', '-', '--chunk', '10'], 's3://bucket/one.jpg\n{"uri": "s3://bucket/two.jpg"}\n');
    expect(result.code).toBe(0);
    const run = /^run {6}(\S+)$/m.exec(result.stdout)?.[1];
    expect(run).toMatch(/^run-\d{8}-\d{6}-[0-9a-f]{4}$/);
    expect(result.stdout).toContain('images   2\n');
    const status = JSON.parse((await cli(['status', run!, '--json'])).stdout) as { meta: { source: string } };
    expect(status.meta.source).toBe('standard input');
  });

  it('runs: every run with its state', async () => {
    const result = await cli(['runs']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^cli-folder {2}queued /m);
    expect(result.stdout).toMatch(/^cli-skip {2}queued /m);
    const json = await cli(['runs', '--json']);
    expect(json.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { meta: { run: string } }).meta.run)).toContain('cli-folder');
  });

  it('errors: the stable code and the message on standard error, exit status 1', async () => {
    const unknown = await cli(['status', 'no-such-run']);
    expect(unknown).toEqual({ code: 1, stdout: '', stderr: 'labelq: RUN_NOT_FOUND: There is no run "no-such-run" in this queue.\n' });

    const badChunk = await cli(['enqueue', 'images', '--chunk', 'zero']);
    expect(badChunk.code).toBe(1);
    expect(badChunk.stderr).toContain('--chunk');

    const badRun = await cli(['enqueue', 'images', '--run', 'has space']);
    expect(badRun.code).toBe(1);
    expect(badRun.stderr).toMatch(/^labelq: [A-Z_]+: The run id "has space" is not valid/);

    const missingSource = await cli(['enqueue', 'nowhere']);
    expect(missingSource.stderr).toBe(`labelq: SOURCE_INVALID: The source ${join(dir, 'nowhere')} does not exist.\n`);

    const stdout = capture();
    const stderr = capture();
    const noRedis = await runCli(['node', 'labelq-producer', 'status', 'x'], undefined, { env: { LABELQ_LOG_LEVEL: 'silent' }, stdout: stdout.stream, stderr: stderr.stream });
    expect(noRedis).toBe(1);
    expect(stderr.text()).toMatch(/^labelq: CONFIG_INVALID: REDIS_URL is not set/);
  });

  it('the bin entry runs under Node 24 and reports errors without a stack trace', async () => {
    const node = join(repoRoot, 'node_modules/.bin/node');
    const bin = join(repoRoot, 'producer/bin/labelq-producer.js');
    const failure = await promisify(execFile)(node, [bin, 'status', 'no-such-run'], { env: { ...process.env, ...env } }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toBe('labelq: RUN_NOT_FOUND: There is no run "no-such-run" in this queue.\n');
    const help = await promisify(execFile)(node, [bin, '--help'], { env: { ...process.env, ...env } });
    expect(help.stdout).toContain('enqueue');
    expect(help.stdout).toContain('results');
  });
});
