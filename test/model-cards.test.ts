import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSchema, type LabelRecord } from '@labelq/shared/record';
import { buildRandomResnet50 } from '@labelq/worker/model/random-resnet50';
import { freshName, missingTestServices, sharedDataDir } from './harness/services.ts';
import { labelqEnv, runLabelq } from './support/labelq-process.ts';

/**
 * The same pipeline serves any classifier its model card describes: a torchvision-style ResNet50 (RGB, /255,
 * ImageNet mean/std, logits out) labels images and its records carry its identity; a model whose card
 * contradicts it is refused when the worker starts, with the mismatch named.
 */
const missing = missingTestServices('redis');

describe.skipIf(missing !== undefined)('model cards', () => {
  const work = mkdtempSync(join(tmpdir(), 'labelq-cards-'));
  const images = join(work, 'images');
  let torchvision: Awaited<ReturnType<typeof buildRandomResnet50>>;

  beforeAll(async () => {
    torchvision = await buildRandomResnet50({ seed: 7, outDir: join(work, 'model'), style: 'torchvision' });
    mkdirSync(images);
    const sample = join(sharedDataDir(), 'imagenet-sample');
    for (const name of readdirSync(sample).filter((file) => file.endsWith('.JPEG')).slice(0, 6)) {
      copyFileSync(join(sample, name), join(images, name));
    }
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('labels with a torchvision-style card (softmax over logits) and records that model', { timeout: 240_000 }, async () => {
    const out = join(work, 'out-torchvision');
    const manifest = join(work, 'manifest.txt');
    const files = readdirSync(images);
    writeFileSync(manifest, `# six photographs\n${files.map((name) => join(images, name)).join('\n')}\n`);
    const env = labelqEnv(freshName('cards'), { LABELQ_DEVICE: 'cpu', LABELQ_MODEL: torchvision.cardPath });
    const label = await runLabelq(['label', manifest, '--out', out, '--run', 'tv'], env);
    expect(label.code, label.stderr).toBe(0);
    const results = await runLabelq(['results', 'tv', '--out', out], env);
    const records = results.stdout.trim().split('\n').map((line) => recordSchema.parse(JSON.parse(line)) as LabelRecord);
    expect(records).toHaveLength(files.length);
    for (const record of records) {
      expect(record.model).toEqual({ name: torchvision.card.name, sha256: torchvision.sha256 });
      expect(record.top).toHaveLength(5);
      const probabilities = record.top.map((entry) => entry.p);
      // Logits went through softmax: probabilities in (0, 1], most probable first.
      expect(probabilities.every((p) => p > 0 && p <= 1)).toBe(true);
      expect([...probabilities].sort((a, b) => b - a)).toEqual(probabilities);
    }
  });

  it('refuses to start a worker whose model contradicts its card, naming the mismatch', { timeout: 120_000 }, async () => {
    const card = JSON.parse(readFileSync(torchvision.cardPath, 'utf8')) as { input: { name: string }; labels: unknown[] };
    card.input.name = 'pixels';
    card.labels = card.labels.slice(0, 10);
    const badCard = join(work, 'model', 'bad-card.json');
    writeFileSync(badCard, JSON.stringify(card));
    const env = labelqEnv(freshName('cards'), { LABELQ_DEVICE: 'cpu', LABELQ_MODEL: badCard });
    const worker = await runLabelq(['worker'], env);
    expect(worker.code).toBe(1);
    expect(worker.stderr).toMatch(/MODEL_CARD_MISMATCH/);
    expect(worker.stderr).toMatch(/pixels/);
    expect(worker.stderr).toMatch(/10/);
  });
});
