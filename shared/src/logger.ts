import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Structured logs (JSON lines) on standard error, so that standard output stays for command results.
 * Secrets are redacted by path as a second line of defence; the first is never logging them.
 */
export function createLogger(name: string, level: string): Logger {
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      redact: {
        paths: ['*.secretAccessKey', '*.password', '*.redisUrl', 'credentials', '*.credentials'],
        censor: '***',
      },
    },
    pino.destination(2),
  );
}
