import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Stage = 'fetch' | 'decode' | 'inference' | 'write';

/** The worker's Prometheus metrics (prom-client), one registry per worker. */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly images = new Counter({ name: 'labelq_images_processed_total', help: 'Images labelled.', registers: [this.registry] });
  private readonly failures = new Counter({
    name: 'labelq_images_failed_total',
    help: 'Images that became error records, by error code.',
    labelNames: ['code'],
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: 'labelq_inference_batch_size',
    help: 'Images per inference batch.',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });
  private readonly stage = new Histogram({
    name: 'labelq_stage_seconds',
    help: 'Time per image (fetch, decode) or per batch (inference) or per job (write), in seconds.',
    labelNames: ['stage'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly inFlight = new Gauge({ name: 'labelq_images_in_flight', help: 'Images in jobs this worker holds.', registers: [this.registry] });
  private readonly jobs = new Gauge({ name: 'labelq_jobs_in_flight', help: 'Jobs this worker holds.', registers: [this.registry] });
  private readonly provider = new Gauge({
    name: 'labelq_execution_provider',
    help: 'The execution provider in use (1) and whether the CPU is a fallback from CUDA.',
    labelNames: ['provider', 'fallback'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  imageDone(): void {
    this.images.inc();
  }

  imageFailed(code: string): void {
    this.failures.inc({ code });
  }

  batch(count: number, inferenceSeconds: number): void {
    this.batchSize.observe(count);
    this.stage.observe({ stage: 'inference' }, inferenceSeconds);
  }

  stageSeconds(stage: Stage, seconds: number): void {
    this.stage.observe({ stage }, seconds);
  }

  jobStarted(images: number): void {
    this.jobs.inc();
    this.inFlight.inc(images);
  }

  jobFinished(images: number): void {
    this.jobs.dec();
    this.inFlight.dec(images);
  }

  executionProvider(provider: string, fallback: boolean): void {
    this.provider.set({ provider, fallback: String(fallback) }, 1);
  }
}
