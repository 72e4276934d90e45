import type { NextFunction, Request, Response } from 'express';
import { isLabelqError } from '@labelq/shared/errors';
import type { Logger } from '@labelq/shared/logger';
import { ThumbnailError } from './image-bytes.ts';

/** HTTP status for an error a route threw: 404 for an unknown run, 503 when Redis or the store is away. */
export function statusOf(error: unknown): number {
  if (error instanceof ThumbnailError) return error.status;
  if (isLabelqError(error)) {
    if (error.code === 'RUN_NOT_FOUND') return 404;
    if (error.code === 'STORE_UNAVAILABLE' || error.code === 'REDIS_UNAVAILABLE') return 503;
    if (error.code === 'RECORD_INVALID') return 502;
    return 500;
  }
  // ioredis while Redis is away: "Connection is closed", "Stream isn't writeable", "Reached the max retries".
  if (error instanceof Error && /connection is closed|stream isn't writeable|max retries|ECONNREFUSED/i.test(error.message)) return 503;
  return 500;
}

/** Express error handler: `{ error: { code, message } }` as JSON, the status from `statusOf`. */
export function jsonErrors(log: Logger) {
  return (error: unknown, request: Request, response: Response, next: NextFunction): void => {
    if (response.headersSent) {
      next(error);
      return;
    }
    const status = statusOf(error);
    const code = isLabelqError(error) ? error.code : status === 503 ? 'REDIS_UNAVAILABLE' : 'INTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    if (status >= 500) log.warn({ path: request.path, status, code, err: { message } }, 'dashboard request failed');
    response.status(status).json({ error: { code, message } });
  };
}
