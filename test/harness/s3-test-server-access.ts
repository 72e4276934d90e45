import type { S3Settings } from '@labelq/shared/s3-client';

/** Where an S3 test server answers and with which keys (the Swift + s3api server of infra/s3-test-server/). */
export interface S3TestServerAccess {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Client settings for the S3 test server: path-style addressing, and checksums only where required (Swift's
 * s3api rejects aws-chunked bodies).
 */
export function s3TestServerSettings(server: S3TestServerAccess, maxSockets: number): S3Settings {
  return {
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    checksumMode: 'WHEN_REQUIRED',
    maxSockets,
    requestTimeoutMs: 30_000,
    maxAttempts: 3,
  };
}

/** The same, as the environment of a `labelq` process (shared/src/config.ts reads it). */
export function s3TestServerEnv(server: S3TestServerAccess): Record<string, string> {
  return {
    S3_ENDPOINT: server.endpoint,
    AWS_REGION: server.region,
    AWS_ACCESS_KEY_ID: server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    S3_CHECKSUM_MODE: 'WHEN_REQUIRED',
  };
}
