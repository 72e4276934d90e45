/**
 * Typed errors with stable codes. Three kinds, as in docs/design.md:
 * - item: one image failed permanently; it becomes an error record and the job carries on;
 * - job-retryable: the job throws and BullMQ retries it with backoff;
 * - job-permanent: the job goes to the failed set with its reason (BullMQ UnrecoverableError).
 * Never rewrite an error's message to add context: put context in log fields.
 */
export const errorCodes = {
  // item, permanent: become error records
  URI_INVALID: 'item',
  URI_UNSUPPORTED_SCHEME: 'item',
  FETCH_NOT_FOUND: 'item',
  FETCH_FORBIDDEN: 'item',
  FETCH_HTTP_ERROR: 'item',
  FETCH_TIMEOUT: 'item',
  FETCH_TOO_LARGE: 'item',
  FETCH_FAILED: 'item',
  FETCH_ADDRESS_REFUSED: 'item',
  FETCH_BUCKET_NOT_ALLOWED: 'item',
  IMAGE_EMPTY: 'item',
  IMAGE_DECODE_FAILED: 'item',
  IMAGE_UNSUPPORTED_FORMAT: 'item',
  IMAGE_TOO_MANY_PIXELS: 'item',
  // job, retryable: the job throws and is retried with backoff
  STORE_UNAVAILABLE: 'job-retryable',
  SOURCE_UNAVAILABLE: 'job-retryable',
  INFERENCE_FAILED: 'job-retryable',
  WORKER_SHUTTING_DOWN: 'job-retryable',
  // job, permanent: straight to the failed set
  JOB_PAYLOAD_INVALID: 'job-permanent',
  MODEL_MISMATCH: 'job-permanent',
  // process-level (not tied to a job)
  CONFIG_INVALID: 'fatal',
  MODEL_INVALID: 'fatal',
  MODEL_CARD_MISMATCH: 'fatal',
  MODEL_FETCH_FAILED: 'fatal',
  DEVICE_UNAVAILABLE: 'fatal',
  REDIS_SERVER_MISSING: 'fatal',
  SOURCE_INVALID: 'fatal',
  MANIFEST_LINE_INVALID: 'fatal',
  RUN_NOT_FOUND: 'fatal',
  REDIS_UNAVAILABLE: 'fatal',
  RECORD_INVALID: 'fatal',
  VERIFY_FAILED: 'fatal',
} as const;

export type ErrorCode = keyof typeof errorCodes;
export type ErrorKind = (typeof errorCodes)[ErrorCode];

export class LabelqError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LabelqError';
    this.code = code;
    this.kind = errorCodes[code];
    this.details = options.details ?? {};
  }

  get retryable(): boolean {
    return this.kind === 'job-retryable';
  }
}

export function isLabelqError(value: unknown): value is LabelqError {
  return value instanceof LabelqError;
}

/** An item error: the record of this one image says why; the job goes on. */
export function itemError(code: ErrorCode, message: string, cause?: unknown): LabelqError {
  if (errorCodes[code] !== 'item') throw new Error(`${code} is not an item error code`);
  return new LabelqError(code, message, { cause });
}
