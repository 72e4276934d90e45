import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settings } from '@labelq/shared/config';

/**
 * infra/docker/: the GPU image on CUDA 12 + cuDNN 9 with onnxruntime-node's CUDA 12 providers, the slim CPU
 * image without them, both non-root with a numeric user, a health check on the worker's /healthz, and every
 * workspace's package.json copied before `npm ci` (a workspace missing there breaks the build).
 * No Docker engine here: these read the Dockerfiles; they are built where Docker runs.
 */
const dockerDir = new URL('../infra/docker/', import.meta.url);
const rootPackage = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { workspaces: string[] };
const settingEnvNames = new Set<string>(Object.values(settings).map((setting) => setting.env));
/** Variables of the runtime and of the build, not labelq settings. */
const otherVariables = new Set(['NODE_ENV', 'UV_THREADPOOL_SIZE', 'ONNXRUNTIME_NODE_INSTALL']);

interface Stage {
  from: string;
  lines: string[];
}

/** The Dockerfile's instructions (continuation lines joined, comments dropped), by stage. */
function stagesOf(file: string): Stage[] {
  const text = readFileSync(new URL(file, dockerDir), 'utf8').replace(/\\\n\s*/g, ' ');
  const stages: Stage[] = [];
  for (const line of text.split('\n').map((raw) => raw.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    if (/^FROM\s/i.test(line)) stages.push({ from: line.split(/\s+/)[1]!, lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

function args(file: string): Map<string, string> {
  const text = readFileSync(new URL(file, dockerDir), 'utf8');
  return new Map([...text.matchAll(/^ARG\s+(\w+)=(\S+)/gm)].map((match) => [match[1]!, match[2]!]));
}

/** NAME=value pairs of the ENV lines of a stage. */
function envOf(stage: Stage): Map<string, string> {
  const pairs = stage.lines.filter((line) => line.startsWith('ENV ')).flatMap((line) => [...line.slice(4).matchAll(/(\w+)=(\S+)/g)]);
  return new Map(pairs.map((match) => [match[1]!, match[2]!]));
}

const images = {
  gpu: { file: 'worker-gpu.Dockerfile', name: 'labelq-gpu' },
  cpu: { file: 'worker-cpu.Dockerfile', name: 'labelq-cpu' },
} as const;

describe.each(Object.values(images))('infra/docker/$file', ({ file, name }) => {
  const stages = stagesOf(file);
  const final = stages.at(-1)!;
  const env = envOf(final);

  it(`is titled ${name} (the image name Compose and Kubernetes use)`, () => {
    expect(final.lines.join('\n')).toContain(`org.opencontainers.image.title="${name}"`);
  });

  it('runs as a numeric non-root user', () => {
    const user = final.lines.filter((line) => line.startsWith('USER ')).at(-1);
    expect(user).toMatch(/^USER [1-9]\d*(:\d+)?$/);
  });

  it("checks its health on the worker's /healthz at LABELQ_METRICS_PORT, which it sets and exposes", () => {
    const port = env.get('LABELQ_METRICS_PORT');
    expect(Number(port)).toBeGreaterThan(0);
    const healthcheck = final.lines.find((line) => line.startsWith('HEALTHCHECK'));
    expect(healthcheck).toContain('/healthz');
    expect(healthcheck).toContain('process.env.LABELQ_METRICS_PORT');
    expect(final.lines).toContain(`EXPOSE ${port}`);
  });

  it('copies the package.json of every workspace before npm ci, and installs only the runtime ones', () => {
    const deps = stages.find((stage) => stage.lines.some((line) => line.includes('npm ci')))!;
    for (const workspace of rootPackage.workspaces) {
      expect(deps.lines, workspace).toContain(`COPY ${workspace}/package.json ${workspace}/`);
      expect(existsSync(new URL(`../${workspace}/package.json`, import.meta.url))).toBe(true);
    }
    const install = deps.lines.find((line) => line.includes('npm ci'))!;
    expect(install).toContain('--omit=dev');
    expect(install).not.toContain('-w test');
    for (const workspace of ['shared', 'producer', 'worker', 'dashboard']) expect(install).toContain(`-w ${workspace}`);
  });

  it('sets only labelq settings and known runtime variables', () => {
    for (const stage of stages) {
      for (const variable of envOf(stage).keys()) expect(settingEnvNames.has(variable) || otherVariables.has(variable), variable).toBe(true);
    }
  });

  it('starts labelq with Node as PID 1 (exec form), so SIGTERM reaches the worker', () => {
    expect(final.lines).toContain('ENTRYPOINT ["node", "worker/bin/labelq.js"]');
    expect(final.lines).toContain('CMD ["worker"]');
  });
});

describe('the GPU and CPU images differ where they must', () => {
  it('GPU: CUDA 12 + cuDNN 9 runtime base, onnxruntime-node with its CUDA 12 providers, LABELQ_DEVICE=cuda', () => {
    const stages = stagesOf(images.gpu.file);
    const base = args(images.gpu.file).get('CUDA_IMAGE') ?? '';
    expect(base).toMatch(/^nvidia\/cuda:12\.\d+(\.\d+)?-cudnn(9)?-runtime-/);
    expect(stages.at(-1)!.from).toBe('${CUDA_IMAGE}');
    const install = stages.find((stage) => stage.lines.some((line) => line.includes('npm ci')))!;
    expect(install.from).toBe('${CUDA_IMAGE}');
    expect(envOf(install).get('ONNXRUNTIME_NODE_INSTALL')).toBe('cuda12');
    expect(envOf(stages.at(-1)!).get('LABELQ_DEVICE')).toBe('cuda');
  });

  it('CPU: a slim Node 24 base without the CUDA download, LABELQ_DEVICE=cpu', () => {
    const stages = stagesOf(images.cpu.file);
    expect(stages.at(-1)!.from).toMatch(/^node:24(\.\d+)*-\w+-slim$/);
    const install = stages.find((stage) => stage.lines.some((line) => line.includes('npm ci')))!;
    expect(envOf(install).get('ONNXRUNTIME_NODE_INSTALL')).toBe('skip');
    expect(envOf(stages.at(-1)!).get('LABELQ_DEVICE')).toBe('cpu');
  });

  it('has a build-context filter beside each Dockerfile that keeps node_modules and models out', () => {
    for (const { file } of Object.values(images)) {
      const ignore = readFileSync(new URL(`${file}.dockerignore`, dockerDir), 'utf8').split('\n');
      expect(ignore).toContain('**/node_modules');
      expect(ignore).toContain('models');
    }
  });
});
