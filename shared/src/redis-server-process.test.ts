import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { isLabelqError } from './errors.ts';
import { startRedisServer, type RedisServerProcess } from './redis-server-process.ts';

const haveRedisServer = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].some((path) => existsSync(path));

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!haveRedisServer)('startRedisServer (needs Debian redis-server: infra/install-deps.sh)', () => {
  const started: RedisServerProcess[] = [];
  const clients: Redis[] = [];
  const tempDirs: string[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    for (const server of started.splice(0)) await server.stop();
    for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  const client = (url: string): Redis => {
    const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
    redis.on('error', () => {}); // failures surface through the rejected commands
    clients.push(redis);
    return redis;
  };

  it('starts on a free loopback port with noeviction and no snapshots, and stop() leaves nothing behind', async () => {
    const messages: string[] = [];
    const server = await startRedisServer({ log: (msg) => messages.push(msg) });
    started.push(server);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    const redis = client(server.url);
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await redis.config('GET', 'save')).toEqual(['save', '']);
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    expect(await redis.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
    expect(messages.join('\n')).toMatch(/ready on 127\.0\.0\.1:\d+/);

    const { pid, dataDir } = server;
    expect(isRunning(pid)).toBe(true);
    await server.stop();
    started.pop();
    expect(isRunning(pid)).toBe(false);
    expect(existsSync(dataDir)).toBe(false); // a temp dir it made itself
  });

  it('keeps data across restart() with appendOnly: same port, same data dir, new pid', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'labelq-redis-test-'));
    tempDirs.push(dataDir);
    const server = await startRedisServer({ dataDir, appendOnly: true });
    started.push(server);
    const firstPid = server.pid;
    const before = client(server.url);
    await before.set('survives', 'yes');
    await before.rpush('list', 'a', 'b', 'c');
    before.disconnect();

    await server.restart();
    expect(server.pid).not.toBe(firstPid);
    expect(isRunning(firstPid)).toBe(false);
    const after = client(server.url);
    expect(await after.get('survives')).toBe('yes');
    expect(await after.lrange('list', 0, -1)).toEqual(['a', 'b', 'c']);
    after.disconnect();

    await server.kill(); // a crash: the AOF was written before each reply, so nothing acknowledged is lost
    await server.restart();
    const afterCrash = client(server.url);
    expect(await afterCrash.get('survives')).toBe('yes');

    await server.stop();
    started.pop();
    expect(existsSync(dataDir)).toBe(true); // a data dir given by the caller stays
  });

  it('requires the password when one is set, and puts it in the url', async () => {
    const password = 'p@ss word/+:';
    const server = await startRedisServer({ password });
    started.push(server);
    expect(server.url).toBe(`redis://:${encodeURIComponent(password)}@127.0.0.1:${server.port}`);
    await expect(client(`redis://127.0.0.1:${server.port}`).get('x')).rejects.toThrow(/NOAUTH/);
    expect(await client(server.url).ping()).toBe('PONG');
  });

  it('starts on the port asked for, and says so when that port is taken', async () => {
    const first = await startRedisServer({});
    started.push(first);
    const second = await startRedisServer({ port: first.port }).catch((error: unknown) => error);
    expect(second).toBeInstanceOf(Error);
    expect((second as Error).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${first.port}.*exited`));
  });
});

describe('startRedisServer without the program', () => {
  it('fails with REDIS_SERVER_MISSING and tells how to install it', async () => {
    const error = await startRedisServer({ binary: '/nonexistent/redis-server' }).catch((caught: unknown) => caught);
    expect(isLabelqError(error)).toBe(true);
    if (!isLabelqError(error)) return;
    expect(error.code).toBe('REDIS_SERVER_MISSING');
    expect(error.message).toContain('redis-server is not installed: run `sudo apt-get install -y redis-server` or set REDIS_URL');
  });
});
