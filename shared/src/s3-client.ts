import { S3Client } from '@aws-sdk/client-s3';
import { Agent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Config } from './config.ts';

export interface S3Settings {
  /** Custom endpoint for S3-compatible stores (MinIO, Swift s3api); unset for AWS. */
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
  /** Explicit credentials; when unset the AWS SDK's default chain (env, profile, instance role) is used. */
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  /** Session token of temporary credentials (with the two keys above). */
  sessionToken?: string | undefined;
  /** WHEN_REQUIRED suits stores that reject aws-chunked streamed bodies (see docs). */
  checksumMode: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  maxSockets: number;
  requestTimeoutMs: number;
  maxAttempts: number;
}

/** One client per process: it keeps its connections alive and reuses them. */
export function createS3Client(settings: S3Settings): S3Client {
  const agentOptions = { keepAlive: true, maxSockets: settings.maxSockets };
  return new S3Client({
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    maxAttempts: settings.maxAttempts,
    requestChecksumCalculation: settings.checksumMode,
    responseChecksumValidation: settings.checksumMode,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    ...(settings.accessKeyId !== undefined && settings.secretAccessKey !== undefined
      ? {
          credentials: {
            accessKeyId: settings.accessKeyId,
            secretAccessKey: settings.secretAccessKey,
            ...(settings.sessionToken === undefined ? {} : { sessionToken: settings.sessionToken }),
          },
        }
      : {}),
    requestHandler: new NodeHttpHandler({
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new Agent(agentOptions),
      connectionTimeout: Math.min(settings.requestTimeoutMs, 10_000),
      requestTimeout: settings.requestTimeoutMs,
    }),
  });
}

/** Splits `s3://bucket/some/prefix` into bucket and key prefix (no leading slash). */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (match === null || match[1] === undefined) throw new Error(`"${url}" is not an s3://bucket/key URL`);
  return { bucket: match[1], key: match[2] ?? '' };
}

/** The S3 settings of a validated config (one S3 client per process is made from them). */
export function s3SettingsFromConfig(
  config: Pick<Config, 's3Endpoint' | 's3Region' | 's3ForcePathStyle' | 's3AccessKeyId' | 's3SecretAccessKey' | 's3SessionToken' | 's3ChecksumMode' | 's3MaxSockets'>,
  requestTimeoutMs: number,
): S3Settings {
  return {
    endpoint: config.s3Endpoint,
    region: config.s3Region,
    forcePathStyle: config.s3ForcePathStyle,
    accessKeyId: config.s3AccessKeyId,
    secretAccessKey: config.s3SecretAccessKey,
    sessionToken: config.s3SessionToken,
    checksumMode: config.s3ChecksumMode,
    maxSockets: config.s3MaxSockets,
    requestTimeoutMs,
    maxAttempts: 3,
  };
}
