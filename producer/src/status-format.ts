import type { RunStatus } from '@labelq/shared/run-registry';

export type RunState = 'empty' | 'queued' | 'running' | 'finished' | 'failed';

/**
 * empty: no job registered yet; queued: no worker has started a job; running: started, not every job over;
 * finished: every job completed; failed: every job is over and some are in the failed set.
 */
export function runState(status: RunStatus): RunState {
  if (status.jobs === 0) return 'empty';
  if (status.finished) return status.jobsFailed > 0 ? 'failed' : 'finished';
  if (status.startedAtMs === undefined && status.imagesDone === 0 && status.imagesInProgress === 0) return 'queued';
  return 'running';
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '' : ` (${((100 * part) / whole).toFixed(1)} %)`;
}

function when(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString();
}

const maxFailedReasonsShown = 10;

/** A few lines a person reads: counts, rate, and why jobs failed. */
export function formatRunStatus(status: RunStatus): string {
  const { meta } = status;
  const rate = status.imagesPerSecond === undefined ? '-' : `${status.imagesPerSecond.toFixed(1)} images/s`;
  const lines = [
    `run ${meta.run}: ${runState(status)}`,
    `  source       ${meta.source}`,
    `  records in   ${meta.out}`,
    `  images       ${status.images} in ${status.jobs} jobs of up to ${meta.chunkSize}`,
    `  queued       ${status.imagesQueued}${percent(status.imagesQueued, status.images)}`,
    `  in progress  ${status.imagesInProgress}${percent(status.imagesInProgress, status.images)}`,
    `  done         ${status.imagesDone}${percent(status.imagesDone, status.images)}, of which ${status.itemErrors} item errors`,
    `  failed       ${status.imagesInFailedJobs} images in ${status.jobsFailed} failed jobs`,
    `  rate         ${rate}`,
    `  created      ${when(meta.createdAtMs)}   started ${when(status.startedAtMs)}   last done ${when(status.lastDoneAtMs)}`,
  ];
  const reasons = Object.entries(status.failedReasons);
  for (const [chunk, reason] of reasons.slice(0, maxFailedReasonsShown)) lines.push(`  failed job ${chunk}: ${reason}`);
  if (reasons.length > maxFailedReasonsShown) lines.push(`  … and ${reasons.length - maxFailedReasonsShown} more failed jobs`);
  return `${lines.join('\n')}\n`;
}

/** One line per run for `labelq runs`. */
export function formatRunLine(status: RunStatus): string {
  const { meta } = status;
  return `${meta.run}  ${runState(status).padEnd(8)}  ${status.imagesDone}/${status.images} images  ${status.itemErrors} item errors  ${status.jobsFailed} failed jobs  ${when(meta.createdAtMs)}  ${meta.source}\n`;
}

function seconds(status: RunStatus): string {
  if (status.startedAtMs === undefined || status.lastDoneAtMs === undefined) return '';
  return `, ${((status.lastDoneAtMs - status.startedAtMs) / 1000).toFixed(1)} s at ${(status.imagesPerSecond ?? 0).toFixed(1)} images/s`;
}

/** The last line of a watch: how the run ended, in one sentence. */
export function formatRunSummary(status: RunStatus): string {
  const { run } = status.meta;
  const records = `${status.imagesDone} of ${status.images} images have records (${status.itemErrors} error records)`;
  if (runState(status) === 'failed') {
    const [chunk, reason] = Object.entries(status.failedReasons)[0] ?? ['?', '?'];
    return `Run ${run} failed: ${status.jobsFailed} of ${status.jobs} jobs failed (${status.imagesInFailedJobs} images without records); ${records}${seconds(status)}. First failed job ${chunk}: ${reason}\n`;
  }
  return `Run ${run} finished: ${records}, ${status.jobsFailed} failed jobs${seconds(status)}.\n`;
}
