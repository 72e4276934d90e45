import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { settings } from '@labelq/shared/config';
import { problemWithCommandLine } from '../infra/cli-reference.ts';

/**
 * infra/k8s/: every manifest parses, and the properties that keep a fleet correct hold — one GPU per worker pod,
 * a grace period that outlasts the worker's shutdown, probes on the metrics port, KEDA scaling on BullMQ's
 * backlog, credentials only in Secrets, image names as infra/docker builds them, and only real setting names.
 */
const k8sDir = new URL('../infra/k8s/', import.meta.url);
const dockerDir = new URL('../infra/docker/', import.meta.url);

// The shapes this test reads; everything else in a manifest is left as unknown.
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}
interface HttpProbe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
  startupProbe?: HttpProbe;
  livenessProbe?: HttpProbe;
  readinessProbe?: HttpProbe;
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: { template?: { spec: PodSpec } } & Record<string, unknown>;
}

function parseManifests(file: string): Manifest[] {
  const documents = parseAllDocuments(readFileSync(new URL(file, k8sDir), 'utf8'));
  return documents.map((document, index) => {
    expect(document.errors, `${file}, document ${index + 1}`).toEqual([]);
    return document.toJS() as Manifest;
  });
}

const manifestFiles = readdirSync(k8sDir).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
const manifests = new Map(manifestFiles.map((file) => [file, parseManifests(file)]));
const applied = [...manifests].filter(([file]) => file !== 'secret.example.yaml').flatMap(([, list]) => list);

function only(kind: string, name?: string): Manifest {
  const found = applied.filter((manifest) => manifest.kind === kind && (name === undefined || manifest.metadata.name === name));
  expect(found.map((manifest) => manifest.metadata.name), `one ${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
}

const settingEnvNames = new Set<string>([...Object.values(settings).map((setting) => setting.env), 'AWS_ENDPOINT_URL_S3']);
const defaults = new Map<string, string>(Object.values(settings).flatMap((setting) => ('default' in setting ? [[setting.env, setting.default]] : [])));
const labelqConfig = only('ConfigMap', 'labelq-config').data ?? {};
const exampleSecret = manifests.get('secret.example.yaml')?.[0];

/** The images infra/docker builds: the title label of each Dockerfile (labelq-gpu, labelq-cpu). */
const builtImages = new Set(
  readdirSync(dockerDir)
    .filter((file) => file.endsWith('.Dockerfile'))
    .map((file) => /org\.opencontainers\.image\.title="([^"]+)"/.exec(readFileSync(new URL(file, dockerDir), 'utf8'))?.[1]),
);

function podSpecs(): { owner: string; spec: PodSpec }[] {
  return applied.flatMap((manifest) => (manifest.spec?.template === undefined ? [] : [{ owner: `${manifest.kind} ${manifest.metadata.name}`, spec: manifest.spec.template.spec }]));
}

function isLabelqImage(image: string): boolean {
  return /^labelq-(gpu|cpu):/.test(image);
}

function labelqContainers(): { owner: string; container: Container }[] {
  return podSpecs().flatMap(({ owner, spec }) =>
    [...(spec.initContainers ?? []), ...spec.containers].filter((container) => isLabelqImage(container.image)).map((container) => ({ owner, container })),
  );
}

/** The value a labelq container sees: its own env, then the ConfigMap it loads, then the setting's default. */
function effectiveSetting(container: Container, env: string): string | undefined {
  const own = container.env?.find((variable) => variable.name === env);
  if (own?.value !== undefined) return own.value;
  const fromConfigMap = container.envFrom?.some((source) => source.configMapRef?.name === 'labelq-config') === true ? labelqConfig[env] : undefined;
  return fromConfigMap ?? defaults.get(env);
}

const worker = only('Deployment', 'labelq-worker-gpu');
const workerPod = worker.spec!.template!.spec;
const workerContainer = workerPod.containers.find((container) => container.name === 'worker')!;

describe('infra/k8s manifests', () => {
  it('all parse, each with apiVersion, kind and a name, and kustomization.yaml applies all but the secret example', () => {
    for (const [file, list] of manifests) {
      for (const manifest of list) {
        expect(manifest.apiVersion, file).toMatch(/\S/);
        expect(manifest.kind, file).toMatch(/^[A-Z]/);
        expect(manifest.metadata.name, file).toMatch(/^[a-z0-9-]+$/);
      }
    }
    const kustomization = parseAllDocuments(readFileSync(new URL('kustomization.yaml', k8sDir), 'utf8'))[0]!.toJS() as { resources: string[]; images: { name: string }[] };
    expect([...kustomization.resources].sort()).toEqual(manifestFiles.filter((file) => file !== 'secret.example.yaml').sort());
    expect(kustomization.images.map((image) => image.name).every((name) => builtImages.has(name)), 'kustomize image names are the ones infra/docker builds').toBe(true);
  });

  it('gives each worker pod exactly one GPU and one worker process', () => {
    expect(workerPod.containers).toHaveLength(1);
    expect(workerContainer.args).toEqual(['worker']);
    expect(Number(workerContainer.resources?.limits?.['nvidia.com/gpu'])).toBe(1);
    expect(effectiveSetting(workerContainer, 'LABELQ_DEVICE')).toBe('cuda');
    expect(effectiveSetting(workerContainer, 'LABELQ_CUDA_DEVICE_ID')).toBe('0');
  });

  it('lets a worker finish or hand back its jobs before it is killed: grace > shutdown timeout + lock, and > the forced-exit deadline', () => {
    const shutdownMs = Number(effectiveSetting(workerContainer, 'LABELQ_SHUTDOWN_TIMEOUT_MS'));
    const lockMs = Number(effectiveSetting(workerContainer, 'LABELQ_LOCK_DURATION_MS'));
    const graceSeconds = workerPod.terminationGracePeriodSeconds ?? 30;
    expect(shutdownMs).toBeGreaterThan(0);
    expect(graceSeconds * 1000).toBeGreaterThan(shutdownMs + lockMs);
    // worker-command.ts exits by force at the shutdown timeout + 10 s.
    expect(graceSeconds * 1000).toBeGreaterThan(shutdownMs + 10_000);
  });

  it('probes /healthz and /readyz on the port the worker serves its metrics on', () => {
    const metricsPort = Number(effectiveSetting(workerContainer, 'LABELQ_METRICS_PORT'));
    expect(metricsPort).toBeGreaterThan(0);
    const portOf = (probe: HttpProbe | undefined): number | undefined => {
      const port = probe?.httpGet?.port;
      return typeof port === 'number' ? port : workerContainer.ports?.find((candidate) => candidate.name === port)?.containerPort;
    };
    expect(workerContainer.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(workerContainer.startupProbe?.httpGet?.path).toBe('/healthz');
    expect(workerContainer.readinessProbe?.httpGet?.path).toBe('/readyz');
    for (const probe of [workerContainer.livenessProbe, workerContainer.startupProbe, workerContainer.readinessProbe]) {
      expect(portOf(probe)).toBe(metricsPort);
    }
  });

  it('scales the workers with KEDA on BullMQ backlog (waiting, prioritized and active), per replica a multiple of the jobs a worker holds', () => {
    const scaled = only('ScaledObject');
    const spec = scaled.spec as {
      scaleTargetRef: { name: string };
      minReplicaCount: number;
      maxReplicaCount: number;
      triggers: { type: string; metadata: Record<string, string> }[];
    };
    expect(scaled.apiVersion).toBe('keda.sh/v1alpha1');
    expect(spec.scaleTargetRef.name).toBe(worker.metadata.name);
    expect(spec.minReplicaCount).toBe(0);
    expect(spec.maxReplicaCount).toBeGreaterThan(0);
    expect(spec.triggers).toHaveLength(1);
    const trigger = spec.triggers[0]!;
    expect(trigger.type).toBe('prometheus');
    const query = trigger.metadata['query'] ?? '';
    expect(query).toMatch(/^sum\(/);
    expect(query).toContain('bullmq_job_count{');
    expect(query).toContain(`queue="${effectiveSetting(workerContainer, 'LABELQ_QUEUE')}"`);
    const states = /state=~"([^"]+)"/.exec(query)?.[1]?.split('|') ?? [];
    expect([...states].sort()).toEqual(['active', 'prioritized', 'waiting']);
    expect(trigger.metadata['activationThreshold']).toBeDefined();
    const concurrency = Number(effectiveSetting(workerContainer, 'LABELQ_CONCURRENCY'));
    const threshold = Number(trigger.metadata['threshold']);
    expect(threshold).toBeGreaterThanOrEqual(concurrency);
    expect(threshold % concurrency).toBe(0);
  });

  it('keeps credentials out of ConfigMaps; labelq containers read them from the Secret, whose example has every key they use', () => {
    const secretish = /SECRET|PASSWORD|PASSWD|TOKEN|ACCESS_KEY|REDIS_URL|requirepass/i;
    const credentialsInUrl = /:\/\/[^/\s@]*:[^/\s@]+@/;
    for (const configMap of applied.filter((manifest) => manifest.kind === 'ConfigMap')) {
      for (const [key, value] of Object.entries(configMap.data ?? {})) {
        expect(key, `${configMap.metadata.name}: ${key}`).not.toMatch(secretish);
        expect(value, `${configMap.metadata.name}: ${key}`).not.toMatch(secretish);
        expect(value, `${configMap.metadata.name}: ${key}`).not.toMatch(credentialsInUrl);
      }
    }
    expect(applied.filter((manifest) => manifest.kind === 'Secret'), 'no Secret with values is applied').toEqual([]);
    const secretKeys = new Set(Object.keys(exampleSecret?.stringData ?? {}));
    const used = podSpecs().flatMap(({ spec }) => [...(spec.initContainers ?? []), ...spec.containers].flatMap((container) => container.env ?? []));
    for (const variable of used) {
      const ref = variable.valueFrom?.secretKeyRef;
      if (ref !== undefined) {
        expect(ref.name).toBe('labelq-secrets');
        expect(secretKeys.has(ref.key), `secret.example.yaml has ${ref.key}`).toBe(true);
      }
      if (secretish.test(variable.name)) expect(variable.value, `${variable.name} has a literal value`).toBeUndefined();
    }
  });

  it('uses the images infra/docker builds, and labelq commands that exist', () => {
    expect(builtImages).toEqual(new Set(['labelq-gpu', 'labelq-cpu']));
    const containers = labelqContainers();
    expect(containers.length).toBeGreaterThanOrEqual(3);
    for (const { owner, container } of containers) {
      expect(builtImages.has(container.image.split(':')[0]), `${owner}: ${container.image}`).toBe(true);
      expect(container.command, `${owner}: the image's entrypoint runs labelq`).toBeUndefined();
      expect(problemWithCommandLine(container.args ?? []), `${owner}/${container.name}`).toBeUndefined();
    }
    expect(workerContainer.image.startsWith('labelq-gpu:')).toBe(true);
  });

  it('gives labelq containers only environment variables that shared/src/config.ts defines', () => {
    for (const key of Object.keys(labelqConfig)) expect(settingEnvNames.has(key), `labelq-config: ${key}`).toBe(true);
    for (const { owner, container } of labelqContainers()) {
      for (const variable of container.env ?? []) expect(settingEnvNames.has(variable.name), `${owner}/${container.name}: ${variable.name}`).toBe(true);
      for (const source of container.envFrom ?? []) expect(source.configMapRef?.name, `${owner}/${container.name}: envFrom`).toBe('labelq-config');
    }
  });

  it('keeps one dashboard running (the exporter of the backlog at zero workers), on all interfaces, scraped by Prometheus', () => {
    const dashboard = only('Deployment', 'labelq-dashboard');
    expect((dashboard.spec as { replicas?: number }).replicas).toBe(1);
    const container = dashboard.spec!.template!.spec.containers[0]!;
    const args = container.args ?? [];
    expect(args[0]).toBe('dashboard');
    expect(args[args.indexOf('--host') + 1]).toBe('0.0.0.0');
    const port = Number(args[args.indexOf('--port') + 1]);
    expect(container.ports?.[0]?.containerPort).toBe(port);
    const annotations = (dashboard.spec!.template as unknown as { metadata: { annotations: Record<string, string> } }).metadata.annotations;
    expect(annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });
    expect(only('Service', 'labelq-dashboard')).toBeDefined();
  });

  it('runs every pod as a non-root user', () => {
    for (const { owner, spec } of podSpecs()) {
      expect(spec.securityContext?.runAsNonRoot, owner).toBe(true);
      expect(spec.securityContext?.runAsUser, owner).toBeGreaterThan(0);
    }
  });

  it('runs Redis with AOF and maxmemory-policy noeviction, from its mounted config', () => {
    const conf = only('ConfigMap', 'labelq-redis-config').data?.['redis.conf'] ?? '';
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    const redis = only('StatefulSet', 'labelq-redis').spec!.template!.spec.containers[0]!;
    expect(redis.command?.slice(0, 2)).toEqual(['redis-server', '/etc/redis/redis.conf']);
  });
});
