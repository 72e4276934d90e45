/** Wall-clock timing of repeated runs: warm-up first, then at least `minIterations` and `minTotalMs`. */
export interface TimingSummary {
  iterations: number;
  medianMs: number;
  meanMs: number;
  minMs: number;
  p10Ms: number;
  p90Ms: number;
  warmupMs: number[];
}

export interface TimingPlan {
  warmup: number;
  minIterations: number;
  maxIterations: number;
  minTotalMs: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const lowValue = sorted[low] as number;
  const highValue = sorted[high] as number;
  return lowValue + (highValue - lowValue) * (position - low);
}

export function summarise(samplesMs: readonly number[], warmupMs: number[] = []): TimingSummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const round = (v: number): number => Math.round(v * 1000) / 1000;
  return {
    iterations: sorted.length,
    medianMs: round(quantile(sorted, 0.5)),
    meanMs: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
    minMs: round(sorted[0] ?? Number.NaN),
    p10Ms: round(quantile(sorted, 0.1)),
    p90Ms: round(quantile(sorted, 0.9)),
    warmupMs: warmupMs.map(round),
  };
}

/** Runs `run` (which must finish its work before resolving) per the plan and summarises the timed runs. */
export async function timeRuns(run: () => Promise<void>, plan: TimingPlan): Promise<TimingSummary> {
  const warmupMs: number[] = [];
  for (let i = 0; i < plan.warmup; i++) {
    const start = performance.now();
    await run();
    warmupMs.push(performance.now() - start);
  }
  const samplesMs: number[] = [];
  const begin = performance.now();
  while (samplesMs.length < plan.maxIterations && (samplesMs.length < plan.minIterations || performance.now() - begin < plan.minTotalMs)) {
    const start = performance.now();
    await run();
    samplesMs.push(performance.now() - start);
  }
  return summarise(samplesMs, warmupMs);
}

export function imagesPerSecond(batch: number, ms: number): number {
  return Math.round((batch / (ms / 1000)) * 10) / 10;
}
