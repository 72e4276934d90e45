import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { missingTestServices, testRedisUrl } from '../../test/harness/services.ts';
import { LabelqError } from './errors.ts';
import { createRedisConnection, reconnectDelayMs, reconnectMaxDelayMs, waitForRedis } from './redis-connection.ts';

/** A loopback port nobody listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('reconnectDelayMs', () => {
  it('doubles from 200 ms and stops growing at the cap', () => {
    expect(reconnectDelayMs(1)).toBeGreaterThanOrEqual(200);
    expect(reconnectDelayMs(1)).toBeLessThanOrEqual(220);
    expect(reconnectDelayMs(3)).toBeGreaterThanOrEqual(800);
    expect(reconnectDelayMs(50)).toBeLessThanOrEqual(reconnectMaxDelayMs * 1.1);
    expect(reconnectDelayMs(50)).toBeGreaterThanOrEqual(reconnectMaxDelayMs);
  });
});

describe('createRedisConnection options', () => {
  it('sets what BullMQ asks for, per purpose, and TLS for rediss://', async () => {
    const port = await deadPort();
    const worker = createRedisConnection(`redis://127.0.0.1:${port}`, 'worker');
    const queue = createRedisConnection(`redis://127.0.0.1:${port}`, 'queue');
    const command = createRedisConnection(`redis://127.0.0.1:${port}`, 'command');
    const tls = createRedisConnection(`rediss://user:secret@127.0.0.1:${port}`, 'queue');
    try {
      expect(worker.options).toMatchObject({ maxRetriesPerRequest: null, enableOfflineQueue: true, connectionName: 'labelq-worker' });
      expect(queue.options).toMatchObject({ maxRetriesPerRequest: null, enableOfflineQueue: false });
      expect(command.options).toMatchObject({ maxRetriesPerRequest: 1, enableOfflineQueue: true });
      expect(worker.options.tls).toBeUndefined();
      expect(tls.options.tls).toBeDefined();
      expect(tls.options.password).toBe('secret');
    } finally {
      for (const connection of [worker, queue, command, tls]) connection.disconnect();
    }
  });

  it('refuses a URL that is not redis:// without showing its password', () => {
    let error: unknown;
    try {
      createRedisConnection('http://user:hunter2@example.com:6379', 'command');
    } catch (failure) {
      error = failure;
    }
    expect(error).toBeInstanceOf(LabelqError);
    expect((error as LabelqError).code).toBe('CONFIG_INVALID');
    expect((error as LabelqError).message).not.toContain('hunter2');
  });
});

describe('createRedisConnection against an unreachable Redis', () => {
  it('queue: a command fails at once instead of waiting', async () => {
    const connection = createRedisConnection(`redis://127.0.0.1:${await deadPort()}`, 'queue');
    try {
      const startedMs = Date.now();
      await expect(connection.ping()).rejects.toThrow();
      expect(Date.now() - startedMs).toBeLessThan(1000);
    } finally {
      connection.disconnect();
    }
  });

  it('command: a command fails after one reconnection attempt', async () => {
    const connection = createRedisConnection(`redis://127.0.0.1:${await deadPort()}`, 'command');
    try {
      const startedMs = Date.now();
      await expect(connection.ping()).rejects.toThrow(/max retries/i);
      expect(Date.now() - startedMs).toBeLessThan(5000);
    } finally {
      connection.disconnect();
    }
  });

  it('waitForRedis: REDIS_UNAVAILABLE after the timeout, the password hidden', async () => {
    const url = `redis://:hunter2@127.0.0.1:${await deadPort()}`;
    const connection = createRedisConnection(url, 'worker');
    try {
      const error = await waitForRedis(connection, url, 500).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(LabelqError);
      expect((error as LabelqError).code).toBe('REDIS_UNAVAILABLE');
      expect((error as LabelqError).message).toContain('within 500 ms');
      expect((error as LabelqError).message).not.toContain('hunter2');
    } finally {
      connection.disconnect();
    }
  });
});

const missing = missingTestServices('redis');

describe.skipIf(missing !== undefined)('createRedisConnection against the test Redis', () => {
  it.each(['queue', 'worker', 'command'] as const)('%s: connects and answers', async (purpose) => {
    const connection = createRedisConnection(testRedisUrl(), purpose);
    try {
      await waitForRedis(connection, testRedisUrl(), 5000);
      expect(await connection.ping()).toBe('PONG');
      expect(await connection.client('GETNAME')).toBe(`labelq-${purpose}`);
    } finally {
      await connection.quit();
    }
  });
});
