import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshName } from './harness/services.ts';
import { samplePhoto } from './support/hostile-images.ts';
import { runLabelq, startLabelq, type RunningLabelq } from './support/labelq-process.ts';
import { secretsIn } from './support/secret-scan.ts';
import { startTlsRedis, tlsRedisUnavailable, type TlsRedis } from './support/tls-redis.ts';

/**
 * Redis with a password over TLS (`rediss://`), with a private CA: real `labelq enqueue`, `labelq worker` and
 * `labelq status` processes against a redis-server that only listens with TLS and requires a password.
 * The private CA reaches Node through NODE_EXTRA_CA_CERTS (the documented way, docs/security.md).
 */
const unavailable = tlsRedisUnavailable();
const password = 'labelq-tls-SECRET-42f1';

describe.skipIf(unavailable !== undefined)(`Redis over TLS with a password${unavailable === undefined ? '' : ` (skipped: ${unavailable})`}`, () => {
  const work = mkdtempSync(join(tmpdir(), 'labelq-redis-tls-'));
  let redis: TlsRedis | undefined;
  let worker: RunningLabelq | undefined;

  beforeAll(async () => {
    redis = await startTlsRedis(password);
  }, 60_000);
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await redis?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const env = (queue: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
    const base: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redis!.url, LABELQ_QUEUE: queue, LABELQ_DEVICE: 'cpu', LABELQ_INTRA_OP_THREADS: '1', LABELQ_LOG_LEVEL: 'warn', ...extra };
    if (!('NODE_EXTRA_CA_CERTS' in extra)) delete base['NODE_EXTRA_CA_CERTS'];
    return base;
  };

  it('without the private CA the connection is refused for its certificate, and the password is not shown', async () => {
    const status = await runLabelq(['status', 'no-such-run'], env(freshName('tls')));
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/REDIS_UNAVAILABLE/);
    expect(status.stderr).toMatch(/certificate/i);
    expect(secretsIn(status.stdout + status.stderr, [password])).toEqual([]);
  });

  it('with NODE_EXTRA_CA_CERTS it connects and authenticates; a wrong password is refused without showing it', async () => {
    const status = await runLabelq(['status', 'no-such-run'], env(freshName('tls'), { NODE_EXTRA_CA_CERTS: redis!.caFile }));
    expect(status.stderr).toMatch(/RUN_NOT_FOUND/); // Redis answered: TLS and AUTH worked
    const wrong = redis!.url.replace(encodeURIComponent(password), 'not-the-password');
    const refused = await runLabelq(['status', 'no-such-run'], env(freshName('tls'), { NODE_EXTRA_CA_CERTS: redis!.caFile, REDIS_URL: wrong }));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/WRONGPASS|NOAUTH|REDIS_UNAVAILABLE/);
    expect(secretsIn(refused.stdout + refused.stderr, [password, 'not-the-password'])).toEqual([]);
  });

  it('enqueue, worker and status run a whole run over rediss://', { timeout: 180_000 }, async () => {
    const images = join(work, 'images');
    mkdirSync(images);
    writeFileSync(join(images, 'tench.jpg'), samplePhoto('n01440764_tench.JPEG'));
    writeFileSync(join(images, 'viaduct.jpg'), samplePhoto('n04532670_viaduct.JPEG'));
    const queue = freshName('tls');
    const tlsEnv = env(queue, { NODE_EXTRA_CA_CERTS: redis!.caFile });
    const out = join(work, 'out');
    const enqueue = await runLabelq(['enqueue', images, '--run', 'tls-run', '--out', out, '--chunk', '1'], tlsEnv);
    expect(enqueue.code, enqueue.stderr).toBe(0);

    worker = startLabelq(['worker'], tlsEnv);
    let status: { finished?: boolean; imagesDone?: number } = {};
    const deadline = performance.now() + 150_000;
    while (performance.now() < deadline) {
      const reply = await runLabelq(['status', 'tls-run', '--json'], tlsEnv);
      expect(reply.code, reply.stderr).toBe(0);
      status = JSON.parse(reply.stdout) as typeof status;
      if (status.finished === true) break;
      expect(worker.child.exitCode, worker.output()).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(status).toMatchObject({ finished: true, imagesDone: 2 });
    const results = await runLabelq(['results', 'tls-run', '--out', out], tlsEnv);
    expect(results.stdout).toMatch(/"label":"tench"/);
    const exit = await worker.stop('SIGTERM');
    expect(exit.code, exit.stderr).toBe(0);
    expect(secretsIn(exit.stdout + exit.stderr + enqueue.stdout + enqueue.stderr, [password])).toEqual([]);
  });
});

