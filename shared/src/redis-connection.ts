import { Redis, type RedisOptions } from 'ioredis';
import { redactUrl } from './config.ts';
import { LabelqError } from './errors.ts';
import type { Logger } from './logger.ts';

/**
 * What a connection is for; each gets the ioredis behaviour BullMQ's "going to production" guide asks for:
 * - `worker`: a BullMQ Worker (or anything a worker process runs). Commands wait through a Redis outage
 *   (`maxRetriesPerRequest: null`, offline queue on) and go out when the connection comes back.
 * - `queue`: a BullMQ Queue used to add jobs. Commands fail at once while Redis is unreachable
 *   (`enableOfflineQueue: false`) so that the caller sees the problem instead of hanging; BullMQ still
 *   waits for the first connection before it sends anything.
 * - `command`: short-lived CLI commands (status, results, runs). Commands queue until the first connection
 *   and fail after one reconnection attempt, so a command against a dead Redis ends with an error.
 */
export type RedisPurpose = 'queue' | 'worker' | 'command';

/** First and largest delay between reconnection attempts, in ms (doubling in between). */
export const reconnectFirstDelayMs = 200;
export const reconnectMaxDelayMs = 10_000;

/** Delay before reconnection attempt `attempt` (1-based): doubling, capped, with up to 10 % jitter. */
export function reconnectDelayMs(attempt: number): number {
  const base = Math.min(reconnectFirstDelayMs * 2 ** Math.max(0, attempt - 1), reconnectMaxDelayMs);
  return Math.round(base * (1 + Math.random() * 0.1));
}

export interface RedisConnectionOptions {
  /** Connection problems are logged here (warn, once per outage); the URL is never logged with its password. */
  logger?: Logger;
}

/** Opens an ioredis connection for one purpose. TLS is used for `rediss://` URLs. */
export function createRedisConnection(url: string, purpose: RedisPurpose, options: RedisConnectionOptions = {}): Redis {
  if (!/^rediss?:\/\//i.test(url)) {
    throw new LabelqError('CONFIG_INVALID', `The Redis URL ${redactUrl(url)} must start with redis:// or rediss://.`);
  }
  const redisOptions: RedisOptions = {
    connectionName: `labelq-${purpose}`,
    retryStrategy: reconnectDelayMs,
    connectTimeout: 10_000,
    ...(purpose === 'command'
      ? { maxRetriesPerRequest: 1, enableOfflineQueue: true }
      : { maxRetriesPerRequest: null, enableOfflineQueue: purpose === 'worker' }),
    ...(/^rediss:/i.test(url) ? { tls: {} } : {}),
  };
  const connection = new Redis(url, redisOptions);
  const where = redactUrl(url);
  // Without an 'error' listener ioredis prints every failed reconnection to the console; log each outage once.
  let reported = false;
  connection.on('error', (error: Error) => {
    hideAuthArguments(error); // first listener: runs before BullMQ re-emits or prints the same error object
    if (reported) return;
    reported = true;
    options.logger?.warn({ redis: where, purpose, err: { message: error.message } }, 'Redis connection problem; reconnecting');
  });
  connection.on('ready', () => {
    if (reported) options.logger?.info({ redis: where, purpose }, 'Redis connection back');
    reported = false;
  });
  return connection;
}

/**
 * ioredis attaches the failed command to its errors (`error.command = { name: 'auth', args: [password] }`), and
 * printing the error (BullMQ prints errors no listener takes) would show the password: blank those arguments.
 */
export function hideAuthArguments(error: Error): void {
  const command = (error as { command?: { name?: unknown; args?: unknown } }).command;
  if (command === undefined || typeof command.name !== 'string' || !Array.isArray(command.args)) return;
  if (/^(auth|hello|migrate|config)$/i.test(command.name)) command.args = command.args.map(() => '(hidden)');
}

/**
 * Waits until the connection is ready, or throws REDIS_UNAVAILABLE after `timeoutMs` with a sentence naming the
 * (redacted) URL and the last connection error.
 */
export async function waitForRedis(connection: Redis, url: string, timeoutMs: number): Promise<void> {
  if (connection.status === 'ready') return;
  let lastError: Error | undefined;
  let onReady: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const onError = (error: Error): void => {
    lastError = error;
  };
  connection.on('error', onError);
  try {
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      connection.once('ready', onReady);
      timer = setTimeout(() => {
        const why = lastError === undefined ? 'no answer' : lastError.message;
        reject(
          new LabelqError(
            'REDIS_UNAVAILABLE',
            `Could not connect to Redis at ${redactUrl(url)} within ${timeoutMs} ms (${why}). Is it running, and is REDIS_URL right?`,
          ),
        );
      }, timeoutMs);
      if (connection.status === 'wait') connection.connect().catch(() => undefined);
    });
  } finally {
    clearTimeout(timer);
    connection.off('error', onError);
    if (onReady !== undefined) connection.off('ready', onReady);
  }
}
