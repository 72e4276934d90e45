import { readModelCard } from '@labelq/shared/model-card';
import { createPreprocessor } from '@labelq/worker/preprocess/preprocessor';
import { applySharpSettings } from '@labelq/worker/preprocess/sharp-settings';
import { measurePreprocessThroughput } from '../gpu/preprocess-bench.ts';
import { progress } from '../lib/progress.ts';

export interface PreprocessRow {
  inFlight: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  uvThreadpoolSize: string;
}

/**
 * JPEG bytes already in memory ("fetch from memory") → sharp decode, resize, centre crop → normalised float32,
 * with the worker's sharp settings and preprocessor, `inFlight` images at a time.
 */
export async function measurePreprocessOnly(cardPath: string, images: readonly Buffer[], inFlights: number[], imagesPerPoint: number): Promise<PreprocessRow[]> {
  const card = await readModelCard(cardPath);
  applySharpSettings();
  const preprocessor = createPreprocessor(card, { maxInputPixels: 100_000_000 });
  const rows: PreprocessRow[] = [];
  for (const inFlight of inFlights) {
    const measured = await measurePreprocessThroughput(preprocessor, images, inFlight, imagesPerPoint);
    const row = { ...measured, uvThreadpoolSize: process.env['UV_THREADPOOL_SIZE'] ?? '4 (libuv default)' };
    rows.push(row);
    progress(`preprocess-only, ${inFlight} in flight: ${row.imagesPerSecond} images/s`);
  }
  return rows;
}
