import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { DeviceRequest } from '@labelq/worker/inference/session';

export const sectionNames = ['infer', 'options', 'overlap', 'preprocess', 'e2e', 'naive', 'queue', 'producer', 'soak', 'fleet', 's3reuse'] as const;
export type SectionName = (typeof sectionNames)[number];

export const usage = `usage: npm run bench -- [--quick] [--only ${sectionNames.join(',')}] [--device cpu|cuda|auto]
                          [--soak-minutes N] [--fleet 1,2,4,8,16,32] [--fleet-batch-ms 20] [--out DIR]
  --quick           a short smoke of every section (about 3-5 minutes on a quiet 2-core machine); results in <date>-quick.json
  --only a,b        run only these sections (derived ratios need infer, preprocess, e2e and naive)
  --device          execution provider for infer/e2e/naive/soak (default cpu; cuda on a GPU host)
  --soak-minutes    length of the RSS soak (default 10; 0.5 with --quick)
  --fleet           worker process counts of the simulated fleet (default 1,2,4,8,16,32; 1,2,4 with --quick)
  --fleet-batch-ms  simulated inference time of one batch of 64 on the null device (default 20, a ResNet50 batch on a GPU)
  --out DIR         where the JSON and SVG go (default bench/results)
  --profile DIR     run every labelq child process with node --cpu-prof, writing .cpuprofile files into DIR`;

export interface BenchOptions {
  quick: boolean;
  sections: Set<SectionName>;
  device: DeviceRequest;
  soakMinutes: number;
  fleetKs: number[];
  fleetBatchMs: number;
  outDir: string;
  profileDir: string | undefined;
}

export function parseBenchOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      device: { type: 'string', default: 'cpu' },
      'soak-minutes': { type: 'string' },
      fleet: { type: 'string' },
      'fleet-batch-ms': { type: 'string', default: '20' },
      out: { type: 'string', default: 'bench/results' },
      profile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const only = values.only?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = only?.filter((name) => !(sectionNames as readonly string[]).includes(name)) ?? [];
  if (unknown.length > 0) throw new Error(`--only names unknown section(s) ${unknown.join(', ')}; the sections are ${sectionNames.join(', ')}.\n${usage}`);
  const device = values.device;
  if (!['cpu', 'cuda', 'auto'].includes(device)) throw new Error(`--device ${device} is not one of cpu, cuda, auto.`);
  const number = (name: string, raw: string | undefined, fallback: number): number => {
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} ${raw} is not a positive number.`);
    return value;
  };
  const quick = values.quick;
  const fleetKs = (values.fleet ?? (quick ? '1,2,4' : '1,2,4,8,16,32')).split(',').map((k) => number('fleet', k, 1));
  return {
    quick,
    sections: new Set((only ?? sectionNames) as SectionName[]),
    device: device as DeviceRequest,
    soakMinutes: number('soak-minutes', values['soak-minutes'], quick ? 0.5 : 10),
    fleetKs,
    fleetBatchMs: number('fleet-batch-ms', values['fleet-batch-ms'], 20),
    outDir: values.out,
    profileDir: values.profile === undefined ? undefined : resolve(values.profile),
  };
}
