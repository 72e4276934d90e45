import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import type { RunRegistry, RunStatus } from '@labelq/shared/run-registry';

/**
 * A run's progress while it runs, for `labelq label` and `labelq status <run> --watch`: a live bar with images/s
 * and ETA in a terminal; plain lines every few seconds elsewhere (CI logs), and one when the run ends. Writes to
 * the stream it is given (standard error: standard output stays for results).
 */
export interface ProgressDisplay {
  update(status: RunStatus): void;
  stop(): void;
}

export interface ProgressDisplayOptions {
  /** Without a terminal, the least time between two lines, in ms. */
  lineEveryMs?: number;
  nowMs?: () => number;
}

/** The stream of a terminal (`process.stderr` when it is one) has isTTY and columns. */
type OutputStream = Writable & { isTTY?: boolean; columns?: number };

/** Images/s over the last `windowMs` of samples: what the run does now, not its average since it started. */
export class RecentRate {
  readonly windowMs: number;
  private readonly samples: { atMs: number; imagesDone: number }[] = [];

  constructor(windowMs = 10_000) {
    this.windowMs = windowMs;
  }

  add(atMs: number, imagesDone: number): void {
    this.samples.push({ atMs, imagesDone });
    while (this.samples.length > 2 && (this.samples[1]?.atMs ?? atMs) <= atMs - this.windowMs) this.samples.shift();
  }

  /** Undefined until the samples span at least a second. */
  imagesPerSecond(): number | undefined {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (first === undefined || last === undefined || last.atMs - first.atMs < 1000) return undefined;
    return ((last.imagesDone - first.imagesDone) * 1000) / (last.atMs - first.atMs);
  }
}

/** Images that still need a record: neither done nor in a failed job. */
function imagesLeft(status: RunStatus): number {
  return Math.max(0, status.images - status.imagesDone - status.imagesInFailedJobs);
}

/** "12 s", "4 min 05 s", "2 h 10 min", or "?" when no rate is known yet. */
export function formatEta(left: number, imagesPerSecond: number | undefined): string {
  if (left === 0) return '0 s';
  if (imagesPerSecond === undefined || imagesPerSecond <= 0) return '?';
  const seconds = Math.ceil(left / imagesPerSecond);
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(seconds / 3600)} h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')} min`;
}

/** The rate shown: the recent one once known, else the run's average. */
function shownRate(status: RunStatus, recent: number | undefined): number | undefined {
  return recent ?? status.imagesPerSecond;
}

/** One plain line: `[run] 120/500 images (24.0%), 18.2 images/s, ETA 21 s, 1 item errors, 0 failed jobs`. */
export function formatProgressLine(status: RunStatus, imagesPerSecond: number | undefined = status.imagesPerSecond): string {
  const percent = status.images === 0 ? 0 : (100 * status.imagesDone) / status.images;
  const rate = imagesPerSecond === undefined ? '-' : imagesPerSecond.toFixed(1);
  return `[${status.meta.run}] ${status.imagesDone}/${status.images} images (${percent.toFixed(1)}%), ${rate} images/s, ETA ${formatEta(imagesLeft(status), imagesPerSecond)}, ${status.itemErrors} item errors, ${status.jobsFailed} failed jobs`;
}

export function createProgressDisplay(stream: OutputStream = process.stderr, options: ProgressDisplayOptions = {}): ProgressDisplay {
  const nowMs = options.nowMs ?? Date.now;
  const recent = new RecentRate();
  if (stream.isTTY === true) return terminalDisplay(stream, recent, nowMs);
  const lineEveryMs = options.lineEveryMs ?? 5000;
  let lastLineAtMs: number | undefined;
  let endShown = false;
  return {
    update(status) {
      const now = nowMs();
      recent.add(now, status.imagesDone);
      const ended = status.finished;
      if (ended ? endShown : lastLineAtMs !== undefined && now - lastLineAtMs < lineEveryMs) return;
      lastLineAtMs = now;
      endShown = ended;
      stream.write(`${formatProgressLine(status, shownRate(status, recent.imagesPerSecond()))}\n`);
    },
    stop() {},
  };
}

function terminalDisplay(stream: OutputStream, recent: RecentRate, nowMs: () => number): ProgressDisplay {
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as NodeJS.WritableStream,
      format: ' {bar} {percentage}% | {value}/{total} images | {rate} images/s | ETA {etaText} | {errors} item errors | {failedJobs} failed jobs',
      hideCursor: true,
      // Redraw on every update (one per poll), not on cli-progress's own timer.
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(status) {
      recent.add(nowMs(), status.imagesDone);
      const rate = shownRate(status, recent.imagesPerSecond());
      const payload = {
        rate: rate === undefined ? '-' : rate.toFixed(1),
        etaText: formatEta(imagesLeft(status), rate),
        errors: status.itemErrors,
        failedJobs: status.jobsFailed,
      };
      if (!started) {
        bar.start(status.images, status.imagesDone, payload);
        started = true;
      }
      bar.setTotal(status.images);
      bar.update(status.imagesDone, payload);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

export interface WatchOptions {
  display: ProgressDisplay;
  /** Time between two looks at the run registry, in ms. */
  pollIntervalMs?: number;
  /** Asked after every look: true stops the watch before the run ends (an interrupt). */
  shouldStop?: () => boolean;
}

/**
 * Shows a run's progress until every job has completed or failed (or `shouldStop` says so), and returns its
 * last status. RUN_NOT_FOUND when the registry does not know the run.
 */
export async function watchRun(registry: RunRegistry, run: string, options: WatchOptions): Promise<{ status: RunStatus; stopped: boolean }> {
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  try {
    for (;;) {
      const status = await registry.status(run);
      options.display.update(status);
      if (status.finished) return { status, stopped: false };
      if (options.shouldStop?.() === true) return { status, stopped: true };
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
    }
  } finally {
    options.display.stop();
  }
}
