import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (this file is worker/src/preprocess/shared-data-dir.ts). */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The read-only test data (imagenet-sample/, golden/): LABELQ_SHARED_DATA, else ../shared/data beside the project.
 * For tests and measurement scripts only.
 */
export function sharedDataDir(): string {
  return process.env['LABELQ_SHARED_DATA'] ?? path.resolve(repoRoot, '../shared/data');
}
