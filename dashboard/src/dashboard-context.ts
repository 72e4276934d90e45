import type { S3Client } from '@aws-sdk/client-s3';
import type { Queue } from 'bullmq';
import type { Logger } from '@labelq/shared/logger';
import type { RunRegistry } from '@labelq/shared/run-registry';
import type { RecordStore } from '@labelq/shared/store/record-store';

/** What the dashboard's routes read from: made by the caller (`labelq dashboard`), closed by it. */
export interface DashboardContext {
  registry: RunRegistry;
  /** The labelling queue (bull-board's views and the /metrics export). */
  queue: Queue;
  /** The store a run's normalised `out` URL names. */
  storeFor: (out: string) => RecordStore;
  /** The S3 client for s3:// thumbnails, made on first use. */
  s3: () => S3Client;
  /** Largest image served as a thumbnail, in bytes. */
  maxImageBytes: number;
  /** bull-board may retry, promote and remove jobs (otherwise its views are read only). */
  queueActions: boolean;
  log: Logger;
}
