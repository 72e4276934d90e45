import type { TargetCheck } from './targets.ts';
import type { TableInput } from './table.ts';

/**
 * The run's tables as Markdown (bench/results/<date>.md), ready to paste into docs/performance.md: targets,
 * headline ratios, the queue runs and the simulated fleet.
 */
function mdTable(header: string[], rows: (string | number | undefined)[][]): string {
  const line = (cells: (string | number | undefined)[]): string => `| ${cells.map((c) => (c === undefined ? '—' : String(c))).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function verdict(t: TargetCheck): string {
  return t.pass === undefined ? 'not measured' : t.pass ? '**pass**' : '**FAIL**';
}

export function markdownReport(input: TableInput & { jsonName: string; mode: string; loadAverages: unknown }): string {
  const s = input.summary;
  const parts: string[] = [];
  parts.push(`From \`bench/results/${input.jsonName}\` (${input.mode} run; load average at start and end ${JSON.stringify(input.loadAverages)}).`);
  parts.push(mdTable(['target', 'wanted', 'measured', ''], input.targets.map((t) => [t.name, t.target, t.value, verdict(t)])));
  parts.push(
    mdTable(['figure', 'value'], [
      ['infer_only_ips (batch: images/s)', JSON.stringify(s['infer_only_ips'])],
      ['preprocess_only_ips (in flight: images/s)', JSON.stringify(s['preprocess_only_ips'])],
      ['e2e_ips (workers: images/s)', JSON.stringify(s['e2e_ips'])],
      ['e2e variants', JSON.stringify(s['e2e_variants_ips'])],
      ['naive_ips', s['naive_ips'] as number | undefined],
      ['cpu_bound_ips', s['cpu_bound_ips'] as number | undefined],
      ['efficiency / with the best worker count', `${String(s['efficiency'])} / ${String(s['efficiency_best_worker_count'])}`],
      ['efficiency_vs_cpu_bound', s['efficiency_vs_cpu_bound'] as number | undefined],
      ['batching_gain', s['batching_gain'] as number | undefined],
      ['queue_ceiling_ips (local store)', s['queue_ceiling_ips'] as number | undefined],
      ['queue to S3 (images/s, objects/s, chunk)', JSON.stringify(s['queue_ceiling_s3'])],
      ['producer_uris_per_s', s['producer_uris_per_s'] as number | undefined],
      ['worker_peak_rss_mb (batch 64) / slope MiB/min / soak min', `${String(s['worker_peak_rss_mb'])} / ${String(s['rss_slope_mb_per_min'])} / ${String(s['soak_minutes'])}`],
      ['pad a batch of 8 to 64: × the cost of 8', s['pad_8_to_64_cost'] as number | undefined],
    ]),
  );
  const runs = [...(input.e2e ?? []), ...(input.naive === undefined ? [] : [input.naive]), ...(input.queue ?? [])];
  if (runs.length > 0) {
    parts.push(
      mdTable(
        ['run', 'workers', 'chunk', 'store', 'images', 'images/s', 'objects/s', 'Redis cores', 'worker cores', 'peak RSS MiB'],
        runs.map((r) => [r.label, r.workers, r.chunk, r.store, r.images, r.imagesPerSecond, r.objectsPerSecond, r.redisCpuCores, r.workersCpuCores, r.workerPeakRssMiB]),
      ),
    );
  }
  if ((input.sessionOptions ?? []).length > 0) {
    parts.push(mdTable(['batch', 'intra-op threads', 'graph optimisation', 'median ms', 'images/s'], (input.sessionOptions ?? []).map((r) => [r.batch, r.intraOpThreads, r.graphOptimizationLevel, r.medianMs, r.imagesPerSecond])));
  }
  if ((input.s3reuse ?? []).length > 0) {
    parts.push(mdTable(['S3 client', 'in flight', 'PUTs/s (20 KB)'], (input.s3reuse ?? []).map((r) => [r.client, r.inFlight, r.putsPerSecond])));
  }
  if (input.fleet !== undefined) {
    parts.push(
      `Simulated fleet: ${input.fleet.simulatedBatchMs} ms per batch of 64 (device bound ${Math.round(input.fleet.deviceBoundPerWorker)} images/s per worker), chunk 64, local store.`,
    );
    parts.push(
      mdTable(
        ['K', 'images/s', 'ideal (K × K=1)', 'efficiency', 'Redis cores', 'workers cores', 'machine busy cores'],
        input.fleet.rows.map((r) => [r.workers, r.imagesPerSecond, r.idealImagesPerSecond, r.efficiency, r.redisCpuCores, r.workersCpuCores, r.machineBusyCores]),
      ),
    );
  }
  return `${parts.join('\n\n')}\n`;
}
