import cliProgress from 'cli-progress';
import type { RunStatus } from '@labelq/shared/run-registry';

/**
 * Shows a run's progress: a live bar with images/s and ETA in a terminal, plain lines every few seconds
 * elsewhere (CI logs). Writes to standard error.
 */
export interface ProgressDisplay {
  update(status: RunStatus): void;
  stop(): void;
}

export function createProgressDisplay(stream: NodeJS.WriteStream = process.stderr, lineEveryMs = 5000): ProgressDisplay {
  if (stream.isTTY === true) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: ' {bar} {percentage}% | {value}/{total} images | {rate} img/s | ETA {eta_formatted} | errors {errors}',
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(status) {
        const payload = { rate: (status.imagesPerSecond ?? 0).toFixed(1), errors: status.itemErrors };
        if (!started) {
          bar.start(status.images, status.imagesDone, payload);
          started = true;
        }
        bar.setTotal(status.images);
        bar.update(status.imagesDone, payload);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let lastLineAtMs = 0;
  let lastDone = -1;
  return {
    update(status) {
      const now = Date.now();
      if (now - lastLineAtMs < lineEveryMs && !(status.finished && lastDone !== status.imagesDone)) return;
      lastLineAtMs = now;
      lastDone = status.imagesDone;
      stream.write(`${formatProgressLine(status)}\n`);
    },
    stop() {},
  };
}

export function formatProgressLine(status: RunStatus): string {
  const percent = status.images === 0 ? 0 : (100 * status.imagesDone) / status.images;
  const rate = status.imagesPerSecond ?? 0;
  const left = status.images - status.imagesDone - status.imagesInFailedJobs;
  const eta = rate > 0 ? `${Math.ceil(left / rate)} s` : '?';
  return `[${status.meta.run}] ${status.imagesDone}/${status.images} images (${percent.toFixed(1)}%), ${rate.toFixed(1)} img/s, ETA ${eta}, item errors ${status.itemErrors}, failed jobs ${status.jobsFailed}`;
}
