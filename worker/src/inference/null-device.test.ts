import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelCard } from '@labelq/shared/model-card';
import { recordSchema } from '@labelq/shared/record';
import { freshName, missingTestServices, repoRoot } from '../../../test/harness/services.ts';
import { labelqEnv, runLabelq, startLabelq, type RunningLabelq } from '../../../test/support/labelq-process.ts';
import { InferenceEngine } from './inference-engine.ts';

/**
 * The null device (benchmarks only): no model, a simulated time per batch, and in a worker no fetch or decode,
 * so synthetic URIs that name no file are labelled, not turned into FILE_NOT_FOUND records.
 */
const cardPath = resolve(repoRoot, 'models/resnet50-keras.json');

describe('null device', () => {
  it('answers a batch after the simulated batch time, k classes per image', async () => {
    const card = await readModelCard(cardPath);
    const engine = await InferenceEngine.start({
      modelPath: '/nonexistent.onnx',
      card,
      settings: { device: 'null', cudaDeviceId: 0, intraOpThreads: 1, interOpThreads: 1 },
      topK: 5,
      maxBatchSize: 4,
      nullDeviceBatchMs: 60,
    });
    try {
      expect(engine.deviceInUse).toBe('null');
      const started = performance.now();
      const result = await engine.runBatch(new Uint8Array(4 * 224 * 224 * 3), 3);
      expect(performance.now() - started).toBeGreaterThanOrEqual(55);
      expect(Array.from(result.indices)).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    } finally {
      await engine.close();
    }
  });

  const missing = missingTestServices('redis');
  describe.skipIf(missing !== undefined)('in a labelq worker', () => {
    const workers: RunningLabelq[] = [];
    let dir: string | undefined;
    afterAll(async () => {
      await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    it('labels synthetic URIs without fetching or decoding them', { timeout: 120_000 }, async () => {
      dir = await mkdtemp(join(tmpdir(), 'labelq-null-device-'));
      const uris = Array.from({ length: 40 }, (_, i) => `/labelq-null-device/missing-${i}.jpg`);
      await writeFile(join(dir, 'manifest.txt'), `${uris.join('\n')}\n`);
      const env = labelqEnv(freshName('null-device'), { LABELQ_DEVICE: 'null', LABELQ_NULL_DEVICE_BATCH_MS: '5', LABELQ_BATCH_SIZE: '8' });
      const out = join(dir, 'out');
      const enqueued = await runLabelq(['enqueue', join(dir, 'manifest.txt'), '--run', 'null-run', '--chunk', '16', '--out', out], env);
      expect(enqueued.code, enqueued.stderr).toBe(0);
      workers.push(startLabelq(['worker'], env));
      const recordsDir = join(out, 'null-run', 'records');
      const deadline = performance.now() + 90_000;
      let lines: string[] = [];
      while (performance.now() < deadline) {
        const files = (await readdir(recordsDir).catch(() => [])).filter((name) => name.endsWith('.jsonl'));
        if (files.length === 3) {
          lines = (await Promise.all(files.map((name) => readFile(join(recordsDir, name), 'utf8')))).flatMap((text) => text.trim().split('\n'));
          if (lines.length === 40) break;
        }
        await new Promise((wake) => setTimeout(wake, 200));
      }
      expect(lines).toHaveLength(40);
      for (const line of lines) {
        const record = recordSchema.parse(JSON.parse(line));
        expect('error' in record, line).toBe(false);
      }
    });
  });
});
