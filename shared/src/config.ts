import { z } from 'zod';
import { LabelqError } from './errors.ts';

/**
 * The one place that reads the environment. Every setting has an environment variable, a default and a unit;
 * command-line flags override them through `overrides`. Invalid values stop the process with a sentence that
 * names the variable, the value and what is expected. docs/configuration.md is generated from `settings`.
 */
interface Setting {
  env: string;
  description: string;
  schema: z.ZodType;
  default?: string;
}

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const optionalString = z.string().min(1).optional();
/** A comma-separated list; blanks around entries and empty entries are dropped. */
const commaList = z.string().optional().transform((v) => (v ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== ''));

export const settings = {
  redisUrl: { env: 'REDIS_URL', description: 'Redis URL (redis:// or rediss://, may hold a password). `labelq label` starts a private redis-server when unset.', schema: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional() },
  queueName: { env: 'LABELQ_QUEUE', description: 'BullMQ queue name.', schema: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-" only'), default: 'labelq' },
  bullPrefix: { env: 'LABELQ_REDIS_PREFIX', description: 'Prefix of every Redis key (BullMQ prefix).', schema: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-" only'), default: 'bull' },
  out: { env: 'LABELQ_OUT', description: 'Where records go: s3://bucket/prefix or a local folder.', schema: z.string().min(1), default: './labelq-out' },
  chunkSize: { env: 'LABELQ_CHUNK_SIZE', description: 'Image URIs per job (the unit of retry).', schema: positiveInt.max(100_000), default: '64' },
  batchSize: { env: 'LABELQ_BATCH_SIZE', description: 'Images per inference batch, gathered across jobs.', schema: positiveInt.max(1024), default: '16' },
  maxWaitMs: { env: 'LABELQ_MAX_WAIT_MS', description: 'Longest time the oldest waiting image waits for a batch to fill, in ms.', schema: nonNegativeInt.max(60_000), default: '20' },
  concurrency: { env: 'LABELQ_CONCURRENCY', description: 'Jobs a worker process holds at once.', schema: positiveInt.max(1000), default: '4' },
  fetchConcurrency: { env: 'LABELQ_FETCH_CONCURRENCY', description: 'Images fetched at once per worker process.', schema: positiveInt.max(1000), default: '16' },
  decodeConcurrency: { env: 'LABELQ_DECODE_CONCURRENCY', description: 'Images decoded at once per worker process (sharp, libuv threadpool); 0 = one per core.', schema: nonNegativeInt.max(256), default: '0' },
  device: { env: 'LABELQ_DEVICE', description: 'Execution provider: auto (CUDA, else CPU with a warning), cpu, cuda (fail when unavailable), null (benchmarks only: no model).', schema: z.enum(['auto', 'cpu', 'cuda', 'null']), default: 'auto' },
  nullDeviceBatchMs: { env: 'LABELQ_NULL_DEVICE_BATCH_MS', description: 'Benchmarks only, with LABELQ_DEVICE=null: simulated inference time per batch, in ms (e.g. 20 for a ResNet50 batch of 64 on a GPU); 0 = answer at once. The null device also skips fetch and decode. Ignored by every other device.', schema: nonNegativeInt.max(60_000), default: '0' },
  cudaDeviceId: { env: 'LABELQ_CUDA_DEVICE_ID', description: 'GPU index for the CUDA provider.', schema: nonNegativeInt, default: '0' },
  intraOpThreads: { env: 'LABELQ_INTRA_OP_THREADS', description: 'ONNX Runtime intra-op threads (0 = one per core).', schema: nonNegativeInt.max(256), default: '0' },
  modelCard: { env: 'LABELQ_MODEL', description: 'Path of the model card JSON (the .onnx sits beside it). Default: resnet50-keras.json in the models folder.', schema: optionalString },
  modelsDir: { env: 'LABELQ_MODELS_DIR', description: 'Folder of converted models (`labelq model fetch` writes there). Default: models/ in the labelq checkout.', schema: optionalString },
  topK: { env: 'LABELQ_TOP_K', description: 'Classes kept per image, most probable first.', schema: positiveInt.max(1000), default: '5' },
  maxImageBytes: { env: 'LABELQ_MAX_IMAGE_BYTES', description: 'Largest image file fetched, in bytes.', schema: positiveInt, default: String(50 * 1024 * 1024) },
  maxInputPixels: { env: 'LABELQ_MAX_INPUT_PIXELS', description: 'Largest image decoded, in pixels (width × height); larger ones are refused before decoding.', schema: positiveInt, default: String(100_000_000) },
  fetchTimeoutMs: { env: 'LABELQ_FETCH_TIMEOUT_MS', description: 'Total time allowed to fetch one image, in ms.', schema: positiveInt, default: '30000' },
  maxRedirects: { env: 'LABELQ_MAX_REDIRECTS', description: 'HTTP redirects followed per image.', schema: nonNegativeInt.max(20), default: '5' },
  httpAllowedHosts: { env: 'LABELQ_HTTP_ALLOWED_HOSTS', description: 'Internal hosts HTTP(S) images may come from, comma-separated: IP addresses, CIDR ranges (10.20.0.0/16, fd00::/8), host names (images.internal) or *.domain. Loopback, private, link-local and metadata addresses are refused unless listed (docs/security.md). Empty: public addresses only.', schema: commaList },
  s3AllowedBuckets: { env: 'LABELQ_S3_ALLOWED_BUCKETS', description: 'Buckets s3:// images may be read from, comma-separated; others get FETCH_BUCKET_NOT_ALLOWED records. Empty: any bucket the credentials can read.', schema: commaList },
  jobAttempts: { env: 'LABELQ_JOB_ATTEMPTS', description: 'Attempts per job before it goes to the failed set.', schema: positiveInt.max(100), default: '5' },
  jobBackoffMs: { env: 'LABELQ_JOB_BACKOFF_MS', description: 'First retry delay of a failed job, in ms (doubles each attempt).', schema: nonNegativeInt, default: '2000' },
  lockDurationMs: { env: 'LABELQ_LOCK_DURATION_MS', description: 'BullMQ job lock, renewed every half of it; a killed worker\'s jobs come back between half of it and all of it, plus up to LABELQ_STALLED_INTERVAL_MS, after the kill (docs/reliability.md), in ms.', schema: positiveInt.min(1000), default: '15000' },
  stalledIntervalMs: { env: 'LABELQ_STALLED_INTERVAL_MS', description: 'How often workers look for jobs whose lock expired (their worker died) and put them back in the queue, in ms.', schema: positiveInt.min(1000), default: '5000' },
  maxStalledCount: { env: 'LABELQ_MAX_STALLED_COUNT', description: 'Times a job may lose its worker (lock expired) and come back before it fails with "job stalled more than allowable limit".', schema: nonNegativeInt, default: '3' },
  shutdownTimeoutMs: { env: 'LABELQ_SHUTDOWN_TIMEOUT_MS', description: 'Time allowed to finish jobs in flight on SIGTERM before handing them back, in ms.', schema: positiveInt, default: '20000' },
  metricsPort: { env: 'LABELQ_METRICS_PORT', description: 'Port of the worker\'s /metrics, /healthz and /readyz, served on all addresses (0 = off).', schema: nonNegativeInt.max(65535), default: '0' },
  dashboardHost: { env: 'LABELQ_DASHBOARD_HOST', description: 'Address `labelq dashboard` binds. The dashboard has no authentication: keep it on 127.0.0.1 or behind a proxy that has.', schema: z.string().min(1), default: '127.0.0.1' },
  dashboardPort: { env: 'LABELQ_DASHBOARD_PORT', description: 'Port of `labelq dashboard` (0 = a free one, printed at start).', schema: nonNegativeInt.max(65535), default: '8080' },
  dashboardMaxImageBytes: { env: 'LABELQ_DASHBOARD_MAX_IMAGE_BYTES', description: 'Largest image the dashboard serves as a thumbnail, in bytes.', schema: positiveInt, default: String(10 * 1024 * 1024) },
  dashboardQueueActions: { env: 'LABELQ_DASHBOARD_QUEUE_ACTIONS', description: 'Let the dashboard\'s queue view retry, promote and remove jobs (false: read only).', schema: bool, default: 'false' },
  s3Endpoint: { env: 'S3_ENDPOINT', description: 'Endpoint of an S3-compatible store (MinIO, Swift); unset for AWS S3. AWS_ENDPOINT_URL_S3 works too.', schema: z.string().url().optional() },
  s3Region: { env: 'AWS_REGION', description: 'S3 region.', schema: z.string().min(1), default: 'us-east-1' },
  s3ForcePathStyle: { env: 'S3_FORCE_PATH_STYLE', description: 'Path-style S3 addressing (needed by most S3-compatible stores).', schema: bool, default: 'false' },
  s3AccessKeyId: { env: 'AWS_ACCESS_KEY_ID', description: 'S3 access key; unset: the AWS default chain (profile, instance role).', schema: optionalString },
  s3SecretAccessKey: { env: 'AWS_SECRET_ACCESS_KEY', description: 'S3 secret key (never logged).', schema: optionalString },
  s3SessionToken: { env: 'AWS_SESSION_TOKEN', description: 'Session token of temporary S3 credentials (STS, SSO), used with the two keys above (never logged).', schema: optionalString },
  s3ChecksumMode: { env: 'S3_CHECKSUM_MODE', description: 'WHEN_SUPPORTED (AWS default) or WHEN_REQUIRED (for stores that reject aws-chunked uploads).', schema: z.enum(['WHEN_SUPPORTED', 'WHEN_REQUIRED']), default: 'WHEN_SUPPORTED' },
  s3MaxSockets: { env: 'S3_MAX_SOCKETS', description: 'Kept-alive connections to S3 per process.', schema: positiveInt, default: '64' },
  storeRetryAttempts: { env: 'LABELQ_STORE_RETRY_ATTEMPTS', description: 'Tries of one S3 store operation (write, read, list) through network errors, 5xx and throttling, before the job fails with STORE_UNAVAILABLE and BullMQ retries it later.', schema: positiveInt.max(100), default: '6' },
  storeRetryFirstDelayMs: { env: 'LABELQ_STORE_RETRY_FIRST_DELAY_MS', description: 'Delay before the second try of an S3 store operation, in ms; doubles each try, at most 8000 ms (6 tries span about 15 s).', schema: nonNegativeInt.max(60_000), default: '500' },
  logLevel: { env: 'LABELQ_LOG_LEVEL', description: 'trace, debug, info, warn, error or silent.', schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), default: 'info' },
} satisfies Record<string, Setting>;

type Settings = typeof settings;
export type Config = { [K in keyof Settings]: z.output<Settings[K]['schema']> };
export type ConfigOverrides = Partial<{ [K in keyof Settings]: string | number | boolean | undefined }>;

/**
 * Reads the environment (and the overrides given on the command line), validates every value, and
 * throws CONFIG_INVALID with one sentence per bad value.
 */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings) as [keyof Settings, Setting][]) {
    const override = overrides[key];
    let raw: string | undefined = override === undefined ? env[setting.env] : String(override);
    if (key === 's3Endpoint' && raw === undefined) raw = env['AWS_ENDPOINT_URL_S3'];
    if (raw === '') raw = undefined;
    const source = override === undefined ? `${setting.env}` : `--${kebab(key)}`;
    const result = setting.schema.safeParse(raw ?? setting.default);
    if (result.success) {
      config[key] = result.data;
    } else {
      const shown = setting.env.includes('SECRET') || key === 'redisUrl' ? '(hidden)' : JSON.stringify(raw);
      problems.push(`${source} = ${shown} is not valid: ${result.error.issues.map((i) => i.message).join(', ')} (${setting.description})`);
    }
  }
  if (problems.length > 0) {
    throw new LabelqError('CONFIG_INVALID', `The configuration is not valid:\n  - ${problems.join('\n  - ')}`);
  }
  return config as Config;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Redis URL with its password replaced, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
