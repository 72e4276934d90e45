import type { BenchServices } from '../lib/services.ts';
import type { QueueRunResult } from '../lib/measure-run.ts';
import { progress } from '../lib/progress.ts';
import { measureQueueCeiling } from './queue-runs.ts';

export interface FleetRow {
  workers: number;
  imagesPerSecond: number;
  /** K × one worker's measured rate. */
  idealImagesPerSecond: number;
  efficiency: number;
  redisCpuCores: number;
  workersCpuCores: number;
  machineBusyCores: number;
  images: number;
  seconds: number;
}

export interface FleetResult {
  simulatedBatchMs: number;
  batch: number;
  chunk: number;
  store: string;
  /** One worker's ceiling if the simulated device were the only cost: batch / simulatedBatchMs. */
  deviceBoundPerWorker: number;
  rows: FleetRow[];
  raw: QueueRunResult[];
}

/**
 * K `labelq worker` processes on the null device with a simulated inference time per batch (a timer, no CPU),
 * real Redis, real result writes to a local folder, synthetic URIs.
 */
export async function measureFleet(
  services: BenchServices,
  options: { ks: number[]; simulatedBatchMs: number; secondsPerPoint: number; maxImages: number; timeoutMs: number },
): Promise<FleetResult> {
  const deviceBoundPerWorker = (64 / options.simulatedBatchMs) * 1000;
  const raw: QueueRunResult[] = [];
  const rows: FleetRow[] = [];
  let oneWorker: number | undefined;
  for (const k of options.ks) {
    const images = Math.min(options.maxImages, Math.ceil((k * deviceBoundPerWorker * options.secondsPerPoint) / 64) * 64);
    const result = await measureQueueCeiling(services, {
      images,
      chunk: 64,
      store: 'local',
      concurrency: 4,
      workers: k,
      nullBatchMs: options.simulatedBatchMs,
      timeoutMs: options.timeoutMs,
      label: `fleet K=${k}`,
    });
    raw.push(result);
    oneWorker ??= result.imagesPerSecond;
    const ideal = k * oneWorker;
    const row: FleetRow = {
      workers: k,
      imagesPerSecond: result.imagesPerSecond,
      idealImagesPerSecond: Math.round(ideal),
      efficiency: Math.round((result.imagesPerSecond / ideal) * 1000) / 1000,
      redisCpuCores: result.redisCpuCores,
      workersCpuCores: result.workersCpuCores,
      machineBusyCores: result.machineBusyCores,
      images: result.images,
      seconds: result.seconds,
    };
    rows.push(row);
    progress(`fleet K=${k}: ${row.imagesPerSecond} images/s, ${Math.round(row.efficiency * 100)} % of ideal ${row.idealImagesPerSecond}`);
  }
  return { simulatedBatchMs: options.simulatedBatchMs, batch: 64, chunk: 64, store: 'local', deviceBoundPerWorker, rows, raw };
}
