import { resolve } from 'node:path';

/** The labelq checkout (this file is test/support/shared-data.ts). */
export const repoRoot = resolve(import.meta.dirname, '../..');

/**
 * The read-only test data handed to the project (imagenet-sample/, golden/, imagenet1k_classes.tsv):
 * LABELQ_SHARED_DATA, else ../shared/data beside the checkout. For tests and measurement scripts.
 */
export function sharedDataDir(): string {
  const fromEnv = process.env['LABELQ_SHARED_DATA'];
  return fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : resolve(repoRoot, '../shared/data');
}
