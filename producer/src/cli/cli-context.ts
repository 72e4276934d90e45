import type { Readable, Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { loadConfig, type Config, type ConfigOverrides } from '@labelq/shared/config';
import { LabelqError } from '@labelq/shared/errors';
import { createLogger, type Logger } from '@labelq/shared/logger';
import { createLabelQueue, type LabelQueue } from '@labelq/shared/queue';
import { createRedisConnection, waitForRedis, type RedisPurpose } from '@labelq/shared/redis-connection';
import { RunRegistry } from '@labelq/shared/run-registry';
import { createS3Client, s3SettingsFromConfig } from '@labelq/shared/s3-client';
import { openStore } from '@labelq/shared/store/open-store';
import type { RecordStore } from '@labelq/shared/store/record-store';

export interface CliContextOptions {
  /** Values given on the command line; they win over the environment. */
  overrides?: ConfigOverrides;
  env?: NodeJS.ProcessEnv;
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /** Relative paths (sources, --out folders) resolve against it. */
  cwd?: string;
  /** Name in the logs. */
  logName?: string;
  /** How long a command waits for the first Redis connection, in ms. */
  redisConnectTimeoutMs?: number;
}

const defaultRedisConnectTimeoutMs = 10_000;
const closeTimeoutMs = 5_000;

/**
 * What the commands of a labelq process share, each made on first use and kept: configuration, logger, one
 * Redis connection per purpose, the queue, the run registry, the S3 client. `close()` releases them in reverse
 * order of creation. The worker command reuses it and adds its own resources with `onClose`.
 */
export class CliContext {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly redisConnectTimeoutMs: number;
  private overrides: ConfigOverrides;
  private readonly logName: string;
  private cachedConfig: Config | undefined;
  private cachedLogger: Logger | undefined;
  private readonly connections = new Map<RedisPurpose, Redis>();
  private cachedQueue: LabelQueue | undefined;
  private cachedRegistry: RunRegistry | undefined;
  private cachedS3: S3Client | undefined;
  private readonly closers: { name: string; close: () => Promise<void> | void }[] = [];

  constructor(options: CliContextOptions = {}) {
    this.overrides = { ...options.overrides };
    this.env = options.env ?? process.env;
    this.stdin = options.stdin ?? process.stdin;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    this.cwd = options.cwd ?? process.cwd();
    this.logName = options.logName ?? 'labelq';
    this.redisConnectTimeoutMs = options.redisConnectTimeoutMs ?? defaultRedisConnectTimeoutMs;
  }

  /** Adds command-line values; only before the configuration was first read. */
  setOverrides(overrides: ConfigOverrides): void {
    if (this.cachedConfig !== undefined) throw new Error('setOverrides() after the configuration was read');
    this.overrides = { ...this.overrides, ...overrides };
  }

  config(): Config {
    this.cachedConfig ??= loadConfig(this.overrides, this.env);
    return this.cachedConfig;
  }

  logger(): Logger {
    this.cachedLogger ??= createLogger(this.logName, this.config().logLevel);
    return this.cachedLogger;
  }

  redisUrl(): string {
    const url = this.config().redisUrl;
    if (url === undefined) {
      throw new LabelqError('CONFIG_INVALID', 'REDIS_URL is not set: set it to the Redis that holds the queue, e.g. redis://127.0.0.1:6379.');
    }
    return url;
  }

  /** The connection for one purpose (see redis-connection.ts), made on first use. */
  redis(purpose: RedisPurpose): Redis {
    let connection = this.connections.get(purpose);
    if (connection === undefined) {
      connection = createRedisConnection(this.redisUrl(), purpose, { logger: this.logger() });
      this.connections.set(purpose, connection);
      const made = connection;
      this.onClose(`redis ${purpose}`, () => quitRedis(made));
    }
    return connection;
  }

  /** `redis(purpose)`, once it is connected; REDIS_UNAVAILABLE after `redisConnectTimeoutMs`. */
  async connectedRedis(purpose: RedisPurpose): Promise<Redis> {
    const connection = this.redis(purpose);
    await waitForRedis(connection, this.redisUrl(), this.redisConnectTimeoutMs);
    return connection;
  }

  /** The labelling queue, on the `queue` connection (adding jobs fails fast while Redis is away). */
  queue(): LabelQueue {
    if (this.cachedQueue === undefined) {
      const queue = createLabelQueue(this.config(), this.redis('queue'));
      queue.on('error', (error) => this.logger().warn({ err: { message: error.message } }, 'queue error'));
      this.cachedQueue = queue;
      this.onClose('queue', () => queue.close());
    }
    return this.cachedQueue;
  }

  /** The run registry, on the `command` connection. */
  registry(): RunRegistry {
    const config = this.config();
    this.cachedRegistry ??= new RunRegistry(this.redis('command'), config.bullPrefix, config.queueName);
    return this.cachedRegistry;
  }

  /** The run registry, once its connection is up (REDIS_UNAVAILABLE otherwise). */
  async readyRegistry(): Promise<RunRegistry> {
    await this.connectedRedis('command');
    return this.registry();
  }

  s3(): S3Client {
    if (this.cachedS3 === undefined) {
      const config = this.config();
      const client = createS3Client(s3SettingsFromConfig(config, 30_000));
      this.cachedS3 = client;
      this.onClose('s3', () => client.destroy());
    }
    return this.cachedS3;
  }

  /** The store a normalised store URL names (s3:// or file://). */
  store(storeUrl: string): RecordStore {
    return openStore(storeUrl, () => this.s3());
  }

  /** Registers something to release on close(); released in reverse order of registration. */
  onClose(name: string, close: () => Promise<void> | void): void {
    this.closers.push({ name, close });
  }

  /** Releases everything made so far, last made first; each gets `closeTimeoutMs`. Safe to call twice. */
  async close(): Promise<void> {
    while (this.closers.length > 0) {
      const { name, close } = this.closers.pop()!;
      try {
        await withTimeout(Promise.resolve(close()), closeTimeoutMs);
      } catch (error) {
        this.cachedLogger?.warn({ resource: name, err: { message: (error as Error).message } }, 'could not close cleanly');
      }
    }
    this.connections.clear();
    this.cachedQueue = undefined;
    this.cachedRegistry = undefined;
    this.cachedS3 = undefined;
    this.cachedLogger?.flush();
  }
}

async function quitRedis(connection: Redis): Promise<void> {
  if (connection.status === 'end') return;
  if (connection.status !== 'ready') {
    connection.disconnect();
    return;
  }
  try {
    await withTimeout(connection.quit(), 2_000);
  } catch {
    connection.disconnect();
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`did not finish within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
