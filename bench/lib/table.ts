import type { TargetCheck } from './targets.ts';
import type { InferRow } from '../sections/infer-only.ts';
import type { PreprocessRow } from '../sections/preprocess-only.ts';
import type { QueueRunResult } from './measure-run.ts';
import type { ProducerResult } from '../sections/producer-rate.ts';
import type { SoakResult } from '../sections/soak.ts';
import type { FleetResult } from '../sections/fleet.ts';
import type { S3ReuseRow } from '../sections/s3-connection-reuse.ts';

export interface TableInput {
  summary: Record<string, unknown>;
  targets: TargetCheck[];
  infer?: InferRow[];
  sessionOptions?: InferRow[];
  preprocess?: PreprocessRow[];
  e2e?: QueueRunResult[];
  naive?: QueueRunResult;
  queue?: QueueRunResult[];
  producer?: ProducerResult;
  soak?: SoakResult;
  fleet?: FleetResult;
  s3reuse?: S3ReuseRow[];
}

function table(title: string, header: string[], rows: (string | number | undefined)[][]): void {
  if (rows.length === 0) return;
  const cells = [header, ...rows.map((row) => row.map((cell) => (cell === undefined ? '—' : String(cell))))];
  const widths = header.map((_, c) => Math.max(...cells.map((row) => (row[c] ?? '').length)));
  console.log(`\n${title}`);
  cells.forEach((row, i) => {
    console.log(`  ${row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ')}`);
    if (i === 0) console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  });
}

/** The human-readable table on standard output. */
export function printTable(input: TableInput): void {
  table(
    'Targets',
    ['figure', 'target', 'measured', 'result'],
    input.targets.map((t) => [t.name, t.target, t.value, t.pass === undefined ? 'not measured' : t.pass ? 'PASS' : 'FAIL']),
  );
  const s = input.summary;
  table('Ratios (this run)', ['figure', 'value'], [
    ['cpu_bound_ips', s['cpu_bound_ips'] as number | undefined],
    ['efficiency (e2e 1 worker / infer at worker batch)', s['efficiency'] as number | undefined],
    ['efficiency with the best worker count', s['efficiency_best_worker_count'] as number | undefined],
    ['pad a batch of 8 to 64: cost × a batch of 8', s['pad_8_to_64_cost'] as number | undefined],
  ]);
  table('Inference only (ONNX Runtime, ready tensors)', ['batch', 'threads', 'graph', 'median ms', 'p10–p90 ms', 'images/s'], (input.infer ?? []).map((r) => [r.batch, r.intraOpThreads, r.graphOptimizationLevel, r.medianMs, `${r.p10Ms}–${r.p90Ms}`, r.imagesPerSecond]));
  table('Session options', ['batch', 'intra-op threads', 'graph', 'median ms', 'images/s'], (input.sessionOptions ?? []).map((r) => [r.batch, r.intraOpThreads, r.graphOptimizationLevel, r.medianMs, r.imagesPerSecond]));
  table('Preprocessing only (JPEG in memory → float tensor)', ['in flight', 'images', 'images/s', 'UV_THREADPOOL_SIZE'], (input.preprocess ?? []).map((r) => [r.inFlight, r.images, r.imagesPerSecond, r.uvThreadpoolSize]));
  const runs = [...(input.e2e ?? []), ...(input.naive === undefined ? [] : [input.naive]), ...(input.queue ?? [])];
  table(
    'Through the queue (enqueue → labelq worker → records)',
    ['run', 'workers', 'chunk', 'store', 'images', 'images/s', 'objects/s', 'redis cores', 'worker cores', 'machine cores', 'peak RSS MiB'],
    runs.map((r) => [r.label, r.workers, r.chunk, r.store, r.images, r.imagesPerSecond, r.objectsPerSecond, r.redisCpuCores, r.workersCpuCores, r.machineBusyCores, r.workerPeakRssMiB]),
  );
  if (input.fleet !== undefined) {
    table(
      `Simulated fleet (null device, ${input.fleet.simulatedBatchMs} ms per batch of 64, local store; device bound ${Math.round(input.fleet.deviceBoundPerWorker)} images/s per worker)`,
      ['K', 'images/s', 'ideal', 'efficiency', 'redis cores', 'worker cores', 'machine cores'],
      input.fleet.rows.map((r) => [r.workers, r.imagesPerSecond, r.idealImagesPerSecond, r.efficiency, r.redisCpuCores, r.workersCpuCores, r.machineBusyCores]),
    );
  }
  if (input.producer !== undefined) {
    const p = input.producer;
    table('Producer', ['manifest lines', 'chunk', 'seconds', 'URIs/s'], [[p.lines, p.chunk, p.wallSeconds, p.urisPerSecond]]);
  }
  if (input.soak !== undefined) {
    const k = input.soak;
    table('Soak (1 worker, batch 64)', ['minutes', 'peak RSS MiB', 'slope MiB/min', 'fitted change %', 'end vs start %'], [[k.minutes, k.peakRssMiB, k.slopeMiBPerMinute, k.fittedChangePercent, k.changePercent]]);
  }
  table('S3 connection reuse (20 KB PUTs)', ['client', 'in flight', 'PUTs/s'], (input.s3reuse ?? []).map((r) => [r.client, r.inFlight, r.putsPerSecond]));
}
