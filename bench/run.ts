/**
 * `npm run bench`: labelq against its own limits on this machine, with a private Redis and the Swift S3 test
 * server. Prints a table (standard output), progress (standard error), and writes bench/results/<date>.json
 * and a chart <date>.svg. See docs/performance.md for what each figure means, and `npm run bench -- --help`.
 */
import { execSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { modelCardPathOf } from '@labelq/worker/default-model';
import { parseBenchOptions, type SectionName } from './lib/options.ts';
import { progress } from './lib/progress.ts';
import { startBenchServices, type BenchServices } from './lib/services.ts';
import { sampleImageBytes, sampleImagePaths } from './lib/sample-images.ts';
import { checkTargets, type Figures } from './lib/targets.ts';
import { lineChartsSvg } from './lib/svg-chart.ts';
import { printTable } from './lib/table.ts';
import { markdownReport } from './lib/markdown-report.ts';
import { measureInferOnly, type InferRow } from './sections/infer-only.ts';
import { measureOverlap } from './sections/overlap.ts';
import { measurePreprocessOnly, type PreprocessRow } from './sections/preprocess-only.ts';
import { measureEndToEnd, measureNaive, measureQueueCeiling } from './sections/queue-runs.ts';
import { measureProducer, type ProducerResult } from './sections/producer-rate.ts';
import { measureSoak, type SoakResult } from './sections/soak.ts';
import { measureFleet, type FleetResult } from './sections/fleet.ts';
import { measureS3Reuse, type S3ReuseRow } from './sections/s3-connection-reuse.ts';
import type { QueueRunResult } from './lib/measure-run.ts';

const options = parseBenchOptions(process.argv.slice(2));
const quick = options.quick;
const want = (name: SectionName): boolean => options.sections.has(name);
const cores = availableParallelism();
/** The worker's defaults (shared/src/config.ts): the batch size e2e runs with and efficiency compares against. */
const workerBatch = 16;
const cardPath = modelCardPathOf({ modelCard: undefined, modelsDir: undefined });
const date = new Date().toISOString().slice(0, 10);
const baseName = `${date}${quick ? '-quick' : ''}`;
const jsonPath = join(options.outDir, `${baseName}.json`);
const svgPath = join(options.outDir, `${baseName}.svg`);

const loadAverageAtStart = loadavg().map((v) => Math.round(v * 100) / 100);
const results: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  sections: [...options.sections],
  host: {
    cores,
    cpuModel: cpus()[0]?.model,
    loadAverageAtStart,
    node: process.version,
    onnxruntimeNode: ort.env.versions.common,
    sharp: sharp.versions.sharp,
    libvips: sharp.versions.vips,
    commit: gitCommit(),
  },
  device: options.device,
  workerBatch,
};

/** Time of a batch of 64 over time of a batch of 8: what padding a partial batch of 8 to a fixed 64 costs. */
function padCost(ips8: number | undefined, ips64: number | undefined): number | undefined {
  if (ips8 === undefined || ips64 === undefined) return undefined;
  return Math.round((64 / ips64 / (8 / ips8)) * 100) / 100;
}

function gitCommit(): string | undefined {
  try {
    return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

async function save(): Promise<void> {
  await mkdir(options.outDir, { recursive: true });
  await writeFile(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
}

async function section<T>(name: string, body: () => Promise<T>): Promise<T | undefined> {
  const started = performance.now();
  progress(`── ${name}`);
  try {
    const value = await body();
    results[name] = value;
    return value;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    progress(`${name} FAILED: ${message}`);
    (results['failures'] ??= {} as Record<string, string>);
    (results['failures'] as Record<string, string>)[name] = message;
    return undefined;
  } finally {
    progress(`── ${name} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await save();
  }
}

const inferPlan = quick ? { warmup: 1, minIterations: 2, maxIterations: 3, minTotalMs: 0 } : { warmup: 2, minIterations: 5, maxIterations: 50, minTotalMs: 8000 };
const needsServices = (['e2e', 'naive', 'queue', 'producer', 'soak', 'fleet', 's3reuse'] as SectionName[]).some(want);
const needsS3 = (['e2e', 'naive', 'queue', 's3reuse'] as SectionName[]).some(want);
let services: BenchServices | undefined;
const stopServices = async (): Promise<void> => {
  const running = services;
  services = undefined;
  await running?.stop();
};
process.once('SIGINT', () => void stopServices().finally(() => process.exit(130)));
process.once('SIGTERM', () => void stopServices().finally(() => process.exit(143)));

try {
  const paths = await sampleImagePaths();
  let infer: InferRow[] | undefined;
  let preprocess: PreprocessRow[] | undefined;
  let e2e: QueueRunResult[] | undefined;
  let naive: QueueRunResult | undefined;
  let queue: QueueRunResult[] | undefined;
  let producer: ProducerResult | undefined;
  let soak: SoakResult | undefined;
  let fleet: FleetResult | undefined;
  let s3reuse: S3ReuseRow[] | undefined;

  if (want('infer')) {
    infer = await section('infer_only', () => measureInferOnly(cardPath, { device: options.device, batches: [1, 8, workerBatch, 32, 64], plan: inferPlan }));
  }
  if (want('options')) {
    await section('session_options', async () => {
      const batch = 8;
      const rows: InferRow[] = [];
      for (const variant of [
        { intraOpThreads: cores, graphOptimizationLevel: 'all' as const },
        { intraOpThreads: 1, graphOptimizationLevel: 'all' as const },
        { intraOpThreads: cores, graphOptimizationLevel: 'basic' as const },
        { intraOpThreads: cores, graphOptimizationLevel: 'disabled' as const },
      ]) {
        rows.push(...(await measureInferOnly(cardPath, { device: options.device, batches: [batch], plan: inferPlan, ...variant })));
      }
      return rows;
    });
  }
  if (want('overlap')) {
    const images = await sampleImageBytes(200);
    await section('overlap', () => measureOverlap(cardPath, images, { device: options.device, batch: workerBatch, batches: quick ? 3 : 12, inFlight: 2 }));
  }
  if (want('preprocess')) {
    const images = await sampleImageBytes();
    preprocess = await section('preprocess_only', () => measurePreprocessOnly(cardPath, images, quick ? [1, 2, 4] : [1, 2, 3, 4, 8], quick ? 150 : 1000));
  }
  if (needsServices) services = await startBenchServices({ withS3: needsS3, profileDir: options.profileDir });
  const svc = services;
  if (svc !== undefined) {
    results['s3'] = svc.s3 === undefined ? { unavailable: svc.s3Unavailable } : { endpoint: svc.s3.endpoint, startMs: svc.s3.startMs };
    const runTimeoutMs = quick ? 10 * 60_000 : 60 * 60_000;
    if (want('e2e')) {
      e2e = await section('e2e', async () => {
        const rows: QueueRunResult[] = [];
        for (const workers of [1, 2]) {
          rows.push(await measureEndToEnd(svc, { paths, images: quick ? 192 : 2000, workers, device: options.device, batch: workerBatch, timeoutMs: runTimeoutMs }));
        }
        if (!quick) {
          // Decode parallelism and inference threads against the cores (issue 4, "measure each"): one worker.
          const variants: [string, Record<string, string>][] = [
            ['e2e 1 worker, LABELQ_DECODE_CONCURRENCY=4', { LABELQ_DECODE_CONCURRENCY: '4' }],
            ['e2e 1 worker, LABELQ_INTRA_OP_THREADS=1', { LABELQ_INTRA_OP_THREADS: '1' }],
            ['e2e 1 worker, batch 64', { LABELQ_BATCH_SIZE: '64' }],
          ];
          for (const [label, extraEnv] of variants) {
            rows.push(await measureEndToEnd(svc, { paths, images: 1000, workers: 1, device: options.device, batch: workerBatch, timeoutMs: runTimeoutMs, extraEnv, label }));
          }
        }
        return rows;
      });
    }
    if (want('naive')) naive = await section('naive', () => measureNaive(svc, { paths, images: quick ? 48 : 500, device: options.device, timeoutMs: runTimeoutMs }));
    if (want('queue')) {
      queue = await section('queue_ceiling', async () => {
        const rows: QueueRunResult[] = [];
        const localRuns = quick
          ? [{ chunk: 64, workers: 1 }, { chunk: 256, workers: 1 }, { chunk: 256, workers: 2 }]
          : [{ chunk: 64, workers: 1 }, { chunk: 256, workers: 1 }, { chunk: 1024, workers: 1 }, { chunk: 256, workers: 2 }, { chunk: 1024, workers: 2 }];
        for (const { chunk, workers } of localRuns) {
          rows.push(await measureQueueCeiling(svc, { images: quick ? 30_000 : 200_000, chunk, workers, store: 'local', concurrency: 8, timeoutMs: runTimeoutMs }));
        }
        if (svc.bucket !== undefined) {
          for (const chunk of quick ? [64] : [64, 1024]) {
            rows.push(await measureQueueCeiling(svc, { images: chunk * (quick ? 60 : 400), chunk, store: 's3', concurrency: 8, timeoutMs: runTimeoutMs }));
          }
        }
        return rows;
      });
    }
    if (want('s3reuse') && svc.s3Settings !== undefined && svc.bucket !== undefined) {
      s3reuse = await section('s3_connection_reuse', () => measureS3Reuse(svc.s3Settings!, svc.bucket!, quick ? 40 : 300));
    }
    if (want('fleet')) {
      fleet = await section('fleet', () =>
        measureFleet(svc, { ks: options.fleetKs, simulatedBatchMs: options.fleetBatchMs, secondsPerPoint: quick ? 3 : 10, maxImages: quick ? 60_000 : 400_000, timeoutMs: runTimeoutMs }),
      );
    }
    if (want('producer')) producer = await section('producer', () => measureProducer(svc, quick ? 200_000 : 1_000_000));
    if (want('soak')) soak = await section('soak', () => measureSoak(svc, { minutes: options.soakMinutes, device: options.device, paths, sampleEveryS: quick ? 2 : 5 }));
  }

  // ── derived ratios, all from this run
  const inferAt = (batch: number): number | undefined => infer?.find((row) => row.batch === batch)?.imagesPerSecond;
  const e2eDefaults = e2e?.filter((row) => row.label.startsWith('e2e') && !row.label.includes(','));
  const e2eOne = e2eDefaults?.find((row) => row.workers === 1)?.imagesPerSecond;
  const e2eBest = e2eDefaults === undefined ? undefined : Math.max(...e2eDefaults.map((row) => row.imagesPerSecond));
  const preprocessOne = preprocess?.find((row) => row.inFlight === 1)?.imagesPerSecond;
  const inferWorker = inferAt(workerBatch);
  const cpuBound = inferWorker !== undefined && preprocessOne !== undefined ? 1 / (1 / inferWorker + 1 / preprocessOne) : undefined;
  const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined || b === undefined || !(b > 0) ? undefined : Math.round((a / b) * 1000) / 1000;
  const queueLocal = queue?.filter((row) => row.store === 'local');
  const queueCeiling = queueLocal === undefined || queueLocal.length === 0 ? undefined : Math.max(...queueLocal.map((row) => row.imagesPerSecond));
  // Honest: the machine still had room (system-wide busy cores from /proc/stat, which also counts the bench's own
  // process and the kernel) — the prefix of K values up to the first that used more than 90 % of the cores.
  const firstSaturated = fleet?.rows.findIndex((row) => row.machineBusyCores > 0.9 * cores) ?? -1;
  const honestFleet = firstSaturated === -1 ? fleet?.rows : fleet?.rows.slice(0, firstSaturated);
  const largestHonest = honestFleet?.at(-1) ?? fleet?.rows[0];
  const summary = {
    infer_only_ips: Object.fromEntries((infer ?? []).map((row) => [row.batch, row.imagesPerSecond])),
    preprocess_only_ips: Object.fromEntries((preprocess ?? []).map((row) => [row.inFlight, row.imagesPerSecond])),
    e2e_ips: Object.fromEntries((e2eDefaults ?? []).map((row) => [row.workers, row.imagesPerSecond])),
    e2e_variants_ips: Object.fromEntries((e2e ?? []).filter((row) => row.label.includes(',')).map((row) => [row.label, row.imagesPerSecond])),
    naive_ips: naive?.imagesPerSecond,
    efficiency: ratio(e2eOne, inferWorker),
    efficiency_best_worker_count: ratio(e2eBest, inferWorker),
    cpu_bound_ips: cpuBound === undefined ? undefined : Math.round(cpuBound * 10) / 10,
    efficiency_vs_cpu_bound: ratio(e2eOne, cpuBound),
    batching_gain: ratio(e2eOne, naive?.imagesPerSecond),
    queue_ceiling_ips: queueCeiling,
    queue_ceiling_s3: queue?.filter((row) => row.store === 's3').map((row) => ({ ips: row.imagesPerSecond, objectsPerSecond: row.objectsPerSecond, chunk: row.chunk })),
    producer_uris_per_s: producer?.urisPerSecond,
    worker_peak_rss_mb: soak?.peakRssMiB,
    rss_slope_mb_per_min: soak?.slopeMiBPerMinute,
    soak_minutes: soak?.minutes,
    fleet_images_per_s: Object.fromEntries((fleet?.rows ?? []).map((row) => [row.workers, row.imagesPerSecond])),
    fleet_efficiency: Object.fromEntries((fleet?.rows ?? []).map((row) => [row.workers, row.efficiency])),
    fleet_largest_honest_k: largestHonest?.workers,
    /** A partial batch of 8 padded to 64 (fixed shapes for CUDA) costs this many times a batch of 8, on CPU. */
    pad_8_to_64_cost: padCost(inferAt(8), inferAt(64)),
  };
  results['summary'] = summary;
  const figures: Figures = {
    efficiency: summary.efficiency,
    efficiencyVsCpuBound: summary.efficiency_vs_cpu_bound,
    batchingGain: summary.batching_gain,
    queueCeilingIps: summary.queue_ceiling_ips,
    producerUrisPerS: summary.producer_uris_per_s,
    workerPeakRssMb: summary.worker_peak_rss_mb,
    soakFittedChangePercent: soak?.fittedChangePercent,
    soakEndChangePercent: soak?.changePercent,
    fleetEfficiencyAtLargestHonestK: largestHonest?.efficiency,
  };
  const targets = checkTargets(figures);
  results['targets'] = targets;
  results['loadAverageAtEnd'] = loadavg().map((v) => Math.round(v * 100) / 100);
  results['finishedAt'] = new Date().toISOString();
  await save();

  const svg = lineChartsSvg(
    [
      {
        title: 'Throughput vs batch size (CPU, this machine)',
        xLabel: 'batch size',
        yLabel: 'images/s',
        logX: true,
        series: [
          { name: 'inference only (ONNX Runtime)', color: '#1f77b4', points: (infer ?? []).map((r) => ({ x: r.batch, y: r.imagesPerSecond })) },
          ...(e2eOne === undefined ? [] : [{ name: `end to end, 1 worker (batch ${workerBatch})`, color: '#d62728', points: [{ x: workerBatch, y: e2eOne }] }]),
          ...(naive === undefined ? [] : [{ name: 'naive (batch 1, 1 image/job)', color: '#7f7f7f', points: [{ x: 1, y: naive.imagesPerSecond }] }]),
        ],
      },
      {
        title: `Simulated fleet: ${options.fleetBatchMs} ms per batch of 64`,
        xLabel: 'worker processes (K)',
        yLabel: 'images/s',
        logX: true,
        series: [
          { name: 'measured', color: '#2ca02c', points: (fleet?.rows ?? []).map((r) => ({ x: r.workers, y: r.imagesPerSecond })) },
          { name: 'ideal K × one worker', color: '#9467bd', dashed: true, points: (fleet?.rows ?? []).map((r) => ({ x: r.workers, y: r.idealImagesPerSecond })) },
        ],
      },
    ],
    `labelq npm run bench${quick ? ' --quick' : ''}, ${results['startedAt'] as string}, ${cores} cores (shared machine: noisy)`,
  );
  await writeFile(svgPath, svg);
  const tables = { summary, targets, infer, preprocess, e2e, naive, queue, producer, soak, fleet, s3reuse, sessionOptions: results['session_options'] as InferRow[] | undefined };
  printTable(tables);
  const markdownPath = join(options.outDir, `${baseName}.md`);
  await writeFile(markdownPath, markdownReport({ ...tables, jsonName: `${baseName}.json`, mode: quick ? 'quick' : 'full', loadAverages: [loadAverageAtStart, results['loadAverageAtEnd']] }));
  console.log(`\nresults: ${jsonPath}\nchart:   ${svgPath}\ntables:  ${markdownPath} (Markdown, for docs/performance.md)`);
} finally {
  await stopServices();
}
