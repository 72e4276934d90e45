/** The targets, each checked against a measured figure (undefined when its section did not run). */
export interface TargetCheck {
  name: string;
  target: string;
  value: number | undefined;
  pass: boolean | undefined;
}

function check(name: string, target: string, value: number | undefined, ok: (v: number) => boolean): TargetCheck {
  return { name, target, value, pass: value === undefined || !Number.isFinite(value) ? undefined : ok(value) };
}

export interface Figures {
  efficiency?: number;
  efficiencyVsCpuBound?: number;
  batchingGain?: number;
  queueCeilingIps?: number;
  producerUrisPerS?: number;
  workerPeakRssMb?: number;
  soakFittedChangePercent?: number;
  soakEndChangePercent?: number;
  fleetEfficiencyAtLargestHonestK?: number;
}

export function checkTargets(f: Figures): TargetCheck[] {
  return [
    check('efficiency', '≥ 0.80', f.efficiency, (v) => v >= 0.8),
    check('efficiency_vs_cpu_bound', '≥ 0.90', f.efficiencyVsCpuBound, (v) => v >= 0.9),
    check('batching_gain', '≥ 1.3', f.batchingGain, (v) => v >= 1.3),
    check('queue_ceiling_ips', '≥ 20,000', f.queueCeilingIps, (v) => v >= 20_000),
    check('producer_uris_per_s', '≥ 100,000', f.producerUrisPerS, (v) => v >= 100_000),
    check('worker_peak_rss_mb (batch 64)', '≤ 1536', f.workerPeakRssMb, (v) => v <= 1536),
    check('soak RSS change, fitted line (%)', 'within ±10', f.soakFittedChangePercent, (v) => Math.abs(v) <= 10),
    check('soak RSS change, end vs start (%)', 'within ±10', f.soakEndChangePercent, (v) => Math.abs(v) <= 10),
    check('fleet efficiency at the largest honest K', '≥ 0.90', f.fleetEfficiencyAtLargestHonestK, (v) => v >= 0.9),
  ];
}
