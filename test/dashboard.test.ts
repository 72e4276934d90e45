import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestBucket, freshName, missingTestServices, repoRoot, sharedDataDir, testS3Client } from './harness/services.ts';
import { labelqEnv, runLabelq, startLabelq, type RunningLabelq } from './support/labelq-process.ts';

/**
 * `labelq dashboard` as a child process on the test Redis and S3 server, after a real worker labelled a run whose
 * items are s3:// objects and local files: its JSON matches `labelq status --json`, thumbnails are served only for
 * the run's label records and within the size cap, /metrics exports the queue's counts, and in headless Chromium
 * the runs view shows the run's numbers and the bull-board view loads (screenshots in .test-artifacts/).
 */
const missing = missingTestServices('redis', 's3');
const chromiumPath = process.env['LABELQ_CHROMIUM'] ?? '/usr/bin/chromium';
const chromiumMissing = existsSync(chromiumPath)
  ? undefined
  : `Chromium is not installed at ${chromiumPath} (infra/install-deps.sh browser installs Debian's chromium)`;
if (chromiumMissing !== undefined) console.warn(`dashboard browser test skipped: ${chromiumMissing}`);
const chromiumFlags = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const artifacts = join(repoRoot, '.test-artifacts');
const run = 'dash-run';

/** The fields of `labelq status --json` the runs view shows as numbers (and the state). */
const shownFields = ['state', 'images', 'imagesDone', 'imagesQueued', 'imagesInProgress', 'itemErrors', 'jobs', 'jobsDone', 'jobsFailed', 'imagesInFailedJobs'] as const;

interface StatusJson {
  finished: boolean;
  [field: string]: unknown;
}

describe.skipIf(missing !== undefined)('labelq dashboard (real worker, Redis, S3; headless Chromium)', () => {
  const processes: RunningLabelq[] = [];
  const work = mkdtempSync(join(tmpdir(), 'labelq-dashboard-'));
  let env: NodeJS.ProcessEnv;
  let queue: string;
  let dashboardUrl: string;
  let status: StatusJson;
  let sourceBytes: Map<string, Buffer>;
  let largestUri: string;

  beforeAll(async () => {
    const sample = join(sharedDataDir(), 'imagenet-sample');
    const names = readdirSync(sample).filter((name) => name.endsWith('.JPEG')).slice(10, 16);
    const bucket = await createTestBucket('dashboard');
    sourceBytes = new Map();
    const uris: string[] = [];
    for (const [i, name] of names.entries()) {
      const bytes = readFileSync(join(sample, name));
      if (i < 3) {
        await testS3Client().send(new PutObjectCommand({ Bucket: bucket, Key: `images/${name}`, Body: bytes }));
        uris.push(`s3://${bucket}/images/${name}`);
      } else {
        uris.push(join(sample, name)); // a local file, read in place
      }
      sourceBytes.set(uris.at(-1)!, bytes);
    }
    largestUri = [...sourceBytes].sort((a, b) => b[1].length - a[1].length)[0]![0];
    const broken = join(work, 'broken.jpg');
    writeFileSync(broken, 'not a JPEG\n');
    uris.push(broken);
    const manifest = join(work, 'manifest.txt');
    writeFileSync(manifest, `${uris.join('\n')}\n`);

    queue = freshName('dashboard');
    // The largest image is one byte over the thumbnail cap.
    const cap = sourceBytes.get(largestUri)!.length - 1;
    env = labelqEnv(queue, {
      LABELQ_DEVICE: 'cpu',
      LABELQ_INTRA_OP_THREADS: '1',
      LABELQ_BATCH_SIZE: '4',
      LABELQ_DASHBOARD_MAX_IMAGE_BYTES: String(cap),
    });
    const enqueue = await runLabelq(['enqueue', manifest, '--run', run, '--chunk', '3', '--out', `s3://${bucket}/out/`], env);
    expect(enqueue.code, enqueue.stderr).toBe(0);
    const worker = startLabelq(['worker'], env);
    processes.push(worker);
    const deadline = performance.now() + 240_000;
    for (;;) {
      const reply = await runLabelq(['status', run, '--json'], env);
      status = JSON.parse(reply.stdout) as StatusJson;
      if (status.finished) break;
      expect(worker.child.exitCode, worker.output()).toBeNull();
      expect(performance.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect((await worker.stop('SIGTERM')).code).toBe(0);

    const dashboard = startLabelq(['dashboard', '--port', '0'], env);
    processes.push(dashboard);
    const started = performance.now();
    while (!/labelq dashboard on (http:\S+)/.test(dashboard.output())) {
      expect(dashboard.child.exitCode, dashboard.output()).toBeNull();
      expect(performance.now() - started).toBeLessThan(30_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    dashboardUrl = /labelq dashboard on (http:\S+)/.exec(dashboard.output())![1]!;
  }, 300_000);

  afterAll(async () => {
    await Promise.all(processes.map((child) => child.stop('SIGKILL')));
    rmSync(work, { recursive: true, force: true });
  });

  it('binds to 127.0.0.1 and serves the run as `labelq status --json` says, with a sample of its records', async () => {
    expect(dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const runs = (await (await fetch(`${dashboardUrl}api/runs`)).json()) as { runs: StatusJson[] };
    expect(runs.runs).toEqual([status]);
    const detail = (await (await fetch(`${dashboardUrl}api/runs/${run}`)).json()) as {
      status: StatusJson;
      throughput: { points: { images: number }[]; jobsCounted: number };
      failedJobs: unknown[];
      sample: { predictions: { uri: string; thumbnail: string; top: { label: string }[] }[]; itemErrors: { uri: string; code: string }[]; recordObjects: number };
    };
    expect(detail.status).toEqual(status);
    expect(status).toMatchObject({ images: 7, imagesDone: 7, itemErrors: 1, jobs: 3, jobsDone: 3, jobsFailed: 0, state: 'finished' });
    expect(detail.throughput.jobsCounted).toBe(3);
    expect(detail.throughput.points.reduce((total, point) => total + point.images, 0)).toBe(7);
    expect(detail.failedJobs).toEqual([]);
    expect(detail.sample.recordObjects).toBe(3);
    expect(detail.sample.itemErrors).toEqual([expect.objectContaining({ uri: join(work, 'broken.jpg'), code: 'IMAGE_DECODE_FAILED' })]);
    expect(new Set(detail.sample.predictions.map((p) => p.uri))).toEqual(new Set(sourceBytes.keys()));
    for (const prediction of detail.sample.predictions) expect(prediction.top).toHaveLength(5);

    const missingRun = await fetch(`${dashboardUrl}api/runs/no-such-run`);
    expect(missingRun.status).toBe(404);
    expect(((await missingRun.json()) as { error: { code: string } }).error.code).toBe('RUN_NOT_FOUND');
  });

  it('serves the images of label records (s3:// and files) within the size cap, and nothing else', async () => {
    const detail = (await (await fetch(`${dashboardUrl}api/runs/${run}`)).json()) as {
      sample: { predictions: { uri: string; thumbnail: string; chunk: number; item: number }[]; itemErrors: { chunk: number; item: number }[] };
    };
    for (const prediction of detail.sample.predictions) {
      expect(prediction.thumbnail).toBe(`runs/${run}/images/${prediction.chunk}/${prediction.item}`);
      const response = await fetch(`${dashboardUrl}${prediction.thumbnail}`);
      if (prediction.uri === largestUri) {
        expect(response.status).toBe(413);
        expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/LABELQ_DASHBOARD_MAX_IMAGE_BYTES/);
        continue;
      }
      expect(response.status, prediction.uri).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/jpeg');
      expect(Buffer.from(await response.arrayBuffer()).equals(sourceBytes.get(prediction.uri)!)).toBe(true);
    }
    const error = detail.sample.itemErrors[0]!;
    expect((await fetch(`${dashboardUrl}runs/${run}/images/${error.chunk}/${error.item}`)).status).toBe(404); // an error record
    expect((await fetch(`${dashboardUrl}runs/${run}/images/0/99`)).status).toBe(404);
    expect((await fetch(`${dashboardUrl}runs/${run}/images/99/0`)).status).toBe(404);
    expect((await fetch(`${dashboardUrl}runs/${run}/images/-1/0`)).status).toBe(400);
    expect((await fetch(`${dashboardUrl}runs/..%2F..%2Fetc/images/0/0`)).status).toBe(404);
  });

  it("serves the queue's Prometheus export at /metrics", async () => {
    const response = await fetch(`${dashboardUrl}metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain(`bullmq_job_count{queue="${queue}", state="completed"} 3`);
    expect(text).toContain(`bullmq_job_count{queue="${queue}", state="waiting"} 0`);
    expect(text).toContain(`bullmq_job_completed_total{queue="${queue}"} 3`);
    expect(text).toContain(`bullmq_job_failed_total{queue="${queue}"} 0`);
  });

  it.skipIf(chromiumMissing !== undefined)('shows the run in a real browser, and the bull-board view loads', { timeout: 120_000 }, async () => {
    const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumFlags });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${dashboardUrl}?run=${run}`);
      await page.waitForSelector('body[data-loaded="true"]', { timeout: 30_000 });
      await page.waitForSelector('[data-run-field="imagesDone"]');
      const shown = await page.$$eval('[data-run-field]', (nodes) => Object.fromEntries(nodes.map((node) => [node.getAttribute('data-run-field'), node.textContent])));
      for (const field of shownFields) expect(shown[field], field).toBe(String(status[field]));
      expect(await page.textContent(`tr[data-run="${run}"] .state`)).toBe('finished');
      expect(await page.locator('[data-throughput-buckets]').count()).toBe(1);
      expect(await page.locator('#item-errors tbody tr').count()).toBe(1);
      expect(await page.textContent('#item-errors')).toContain('IMAGE_DECODE_FAILED');
      // Every thumbnail the dashboard may serve has loaded (the one over the size cap has not).
      await page.waitForFunction("[...document.querySelectorAll('#predictions img')].every((img) => img.complete)");
      const loaded = await page.$$eval('#predictions img', (images) => images.map((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0));
      expect(loaded).toHaveLength(6);
      expect(loaded.filter(Boolean)).toHaveLength(5);
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });

      // bull-board: the queue's completed jobs, read through its own API.
      await page.goto(`${dashboardUrl}queues/queue/${queue}?status=completed`);
      await page.getByText(queue).first().waitFor({ timeout: 30_000 });
      await page.getByText(`${run}.00000002`).first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(artifacts, 'dashboard-queues.png') });
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
    expect(statSync(join(artifacts, 'dashboard.png')).size).toBeGreaterThan(10_000);
  });

  it('stops cleanly on SIGTERM', async () => {
    const dashboard = processes.at(-1)!;
    const exit = await dashboard.stop('SIGTERM');
    expect(exit.code, exit.stderr).toBe(0);
    await expect(fetch(`${dashboardUrl}metrics`)).rejects.toThrow();
  });
});
