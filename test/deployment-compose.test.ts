import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { settings } from '@labelq/shared/config';
import { problemWithCommandLine } from '../infra/cli-reference.ts';

/**
 * docker-compose.yml: valid for the Compose specification (Debian's docker-compose 1.29 `config` validates it
 * against the compose-spec JSON schema it ships, offline), and the properties that matter hold — Redis with AOF
 * and noeviction, a GPU reservation, profiles, setting names that exist, grace periods longer than the worker's
 * shutdown, commands the CLI has.
 */
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const composePath = fileURLToPath(new URL('../docker-compose.yml', import.meta.url));
const dockerCompose = '/usr/bin/docker-compose';
const noDockerCompose = existsSync(dockerCompose) ? undefined : `${dockerCompose} is not installed (infra/install-deps.sh compose installs it)`;

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  profiles?: string[];
  ports?: string[];
  volumes?: string[];
  stop_grace_period?: string;
  healthcheck?: { disable?: boolean; test?: string[] };
  restart?: string;
  deploy?: { resources?: { reservations?: { devices?: { driver?: string; count?: number | string; capabilities?: string[] }[] } } };
}
interface ComposeFile {
  services: Record<string, Service>;
}

// merge: true resolves the `<<: *labelq-env` merge keys as Compose does.
const compose = parse(readFileSync(composePath, 'utf8'), { merge: true }) as ComposeFile;
const services = compose.services;
const settingEnvNames = new Set<string>(Object.values(settings).map((setting) => setting.env));
const defaults = new Map<string, string>(Object.values(settings).flatMap((setting) => ('default' in setting ? [[setting.env, setting.default]] : [])));

function service(name: string): Service {
  const found = services[name];
  expect(found, `service ${name}`).toBeDefined();
  return found!;
}

const labelqServices = Object.entries(services).filter(([, definition]) => /^labelq-(cpu|gpu)(:|$)/.test(definition.image ?? ''));

/** "60s", "1m30s", "90" (seconds) → ms. */
function durationMs(text: string): number {
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)?/g)) {
    total += Number(amount) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(unit ?? 's') as 'ms' | 's' | 'm' | 'h'];
  }
  return total;
}

/** What the Compose implementation makes of the file: validated against the compose-spec schema, merged, interpolated. */
function resolvedByDockerCompose(): ComposeFile {
  const text = execFileSync(dockerCompose, ['-f', composePath, '--project-directory', repoRoot, 'config'], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
  });
  return parse(text) as ComposeFile;
}

describe('docker-compose.yml', () => {
  it.skipIf(noDockerCompose !== undefined)(`passes docker-compose config (the compose-spec schema) ${noDockerCompose ?? ''}`, () => {
    const resolved = resolvedByDockerCompose();
    expect(Object.keys(resolved.services).sort()).toEqual(Object.keys(services).sort());
    // Merges and interpolation as Compose does them agree with this test's reading of the file.
    expect(resolved.services['worker-gpu']?.environment?.['REDIS_URL']).toBe('redis://redis:6379');
    expect(resolved.services['worker-cpu']?.environment?.['LABELQ_DEVICE']).toBe('cpu');
    expect(resolved.services['redis']?.command).toContain('noeviction');
  });

  it('runs Redis with AOF and maxmemory-policy noeviction', () => {
    const command = service('redis').command ?? [];
    expect(command[0]).toBe('redis-server');
    expect(command[command.indexOf('--appendonly') + 1]).toBe('yes');
    expect(command[command.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
  });

  it('reserves one NVIDIA GPU for the GPU worker, built from the CUDA Dockerfile, in profile gpu', () => {
    const gpu = service('worker-gpu');
    const devices = gpu.deploy?.resources?.reservations?.devices ?? [];
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({ driver: 'nvidia', count: 1 });
    expect(devices[0]?.capabilities).toContain('gpu');
    expect(gpu.profiles).toEqual(['gpu']);
    expect(gpu.image).toBe('labelq-gpu');
    expect(gpu.build?.dockerfile).toBe('infra/docker/worker-gpu.Dockerfile');
    expect(gpu.environment?.['LABELQ_DEVICE']).toBe('cuda');
  });

  it('has a CPU worker profile, a one-shot producer example (profile tools) and the dashboard listening on all interfaces, published on loopback', () => {
    const cpu = service('worker-cpu');
    expect(cpu.profiles).toEqual(['cpu']);
    expect(cpu.environment?.['LABELQ_DEVICE']).toBe('cpu');
    expect(cpu.deploy).toBeUndefined();
    const producer = service('producer');
    expect(producer.profiles).toEqual(['tools']);
    expect(producer.restart).toBe('no');
    expect(producer.command?.[0]).toBe('enqueue');
    const dashboard = service('dashboard');
    expect(dashboard.command?.[0]).toBe('dashboard');
    expect(dashboard.command?.[dashboard.command.indexOf('--host') + 1]).toBe('0.0.0.0');
    const port = dashboard.command?.[dashboard.command.indexOf('--port') + 1];
    expect(dashboard.ports).toEqual([`127.0.0.1:${port}:${port}`]);
    // The images' health check probes the worker's metrics port: the one-shot services turn it off.
    expect(service('producer').healthcheck?.disable).toBe(true);
    expect(service('model').healthcheck?.disable).toBe(true);
    expect(dashboard.healthcheck?.test?.join(' ')).toContain(`:${port}/`);
  });

  it('gives labelq services only environment variables that shared/src/config.ts defines', () => {
    expect(labelqServices.length).toBeGreaterThanOrEqual(5);
    for (const [name, definition] of labelqServices) {
      for (const key of Object.keys(definition.environment ?? {})) expect(settingEnvNames.has(key), `${name}: ${key}`).toBe(true);
    }
  });

  it('runs labelq commands that exist, through the image entrypoint', () => {
    for (const [name, definition] of labelqServices) {
      expect(definition.entrypoint, `${name} keeps the image's entrypoint`).toBeUndefined();
      // No command: the image's CMD, `worker`.
      expect(problemWithCommandLine(definition.command ?? ['worker']), name).toBeUndefined();
    }
  });

  it('gives workers a stop grace period longer than their shutdown timeout plus the 10 s forced-exit margin, and a metrics port for the health check', () => {
    for (const name of ['worker-gpu', 'worker-cpu']) {
      const worker = service(name);
      const shutdownMs = Number(worker.environment?.['LABELQ_SHUTDOWN_TIMEOUT_MS'] ?? defaults.get('LABELQ_SHUTDOWN_TIMEOUT_MS'));
      expect(durationMs(worker.stop_grace_period ?? '10s'), name).toBeGreaterThan(shutdownMs + 10_000);
      expect(Number(worker.environment?.['LABELQ_METRICS_PORT']), name).toBe(9464);
      expect(worker.volumes ?? [], name).toContain('models:/app/models:ro');
    }
  });

  it('takes the S3 credentials from the environment (an .env file), with local-only defaults', () => {
    const raw = readFileSync(composePath, 'utf8');
    expect(raw).toMatch(/AWS_SECRET_ACCESS_KEY: \$\{MINIO_ROOT_PASSWORD:-[^}]+\}/);
    expect(raw).toMatch(/MINIO_ROOT_PASSWORD: \$\{MINIO_ROOT_PASSWORD:-[^}]+\}/);
  });
});
