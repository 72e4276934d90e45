import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RunStatus } from '@labelq/shared/run-registry';
import { createProgressDisplay, formatEta, formatProgressLine, RecentRate } from '@labelq/producer/progress-display';
import { formatRunSummary, runState } from '@labelq/producer/status-format';

/**
 * The progress display of `labelq label` and `labelq status --watch`: plain lines when not a terminal (CI logs),
 * a live bar in one; and the summary line a watch ends with. (Watching real runs: test/schedule-labelling.test.ts.)
 */
function statusOf(overrides: Partial<RunStatus>): RunStatus {
  return {
    meta: { run: 'r1', source: 's3://b/p/', out: 's3://b/out/', chunkSize: 10, createdAtMs: 0 },
    jobs: 10,
    images: 100,
    imagesInProgress: 0,
    imagesDone: 0,
    itemErrors: 0,
    jobsDone: 0,
    jobsFailed: 0,
    imagesInFailedJobs: 0,
    imagesQueued: 100,
    startedAtMs: 1_000,
    lastDoneAtMs: undefined,
    imagesPerSecond: undefined,
    finished: false,
    failedReasons: {},
    ...overrides,
  };
}

function collect(isTTY: boolean): { stream: PassThrough & { isTTY?: boolean; columns?: number }; text: () => string } {
  const stream = Object.assign(new PassThrough(), isTTY ? { isTTY: true, columns: 160 } : {});
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('progress display', () => {
  it('measures the recent rate, not the average since the start', () => {
    const rate = new RecentRate(10_000);
    rate.add(0, 0);
    expect(rate.imagesPerSecond()).toBeUndefined();
    rate.add(10_000, 1000); // 100 images/s for 10 s
    rate.add(20_000, 1100); // then 10 images/s
    rate.add(30_000, 1200);
    expect(rate.imagesPerSecond()).toBeCloseTo(10, 5);
  });

  it('formats ETAs a person reads', () => {
    expect(formatEta(0, undefined)).toBe('0 s');
    expect(formatEta(10, undefined)).toBe('?');
    expect(formatEta(10, 4)).toBe('3 s');
    expect(formatEta(245, 1)).toBe('4 min 05 s');
    expect(formatEta(7800, 1)).toBe('2 h 10 min');
  });

  it('writes plain lines at most every lineEveryMs when not a terminal, and one when the run ends', () => {
    const { stream, text } = collect(false);
    let now = 0;
    const display = createProgressDisplay(stream, { lineEveryMs: 5000, nowMs: () => now });
    for (let second = 0; second <= 10; second += 1) {
      now = second * 1000;
      display.update(statusOf({ imagesDone: second * 5, imagesPerSecond: 5 }));
    }
    now = 11_000;
    const done = statusOf({ imagesDone: 100, jobsDone: 10, imagesQueued: 0, finished: true, lastDoneAtMs: 11_000, imagesPerSecond: 10 });
    display.update(done);
    display.update(done);
    display.stop();
    const lines = text().trimEnd().split('\n');
    expect(lines).toEqual([
      '[r1] 0/100 images (0.0%), 5.0 images/s, ETA 20 s, 0 item errors, 0 failed jobs',
      '[r1] 25/100 images (25.0%), 5.0 images/s, ETA 15 s, 0 item errors, 0 failed jobs',
      '[r1] 50/100 images (50.0%), 5.0 images/s, ETA 10 s, 0 item errors, 0 failed jobs',
      expect.stringMatching(/^\[r1\] 100\/100 images \(100\.0%\), [\d.]+ images\/s, ETA 0 s, 0 item errors, 0 failed jobs$/),
    ]);
    expect(text()).not.toContain('\u001b['); // no terminal escapes in a log
  });

  it('draws a live bar with images/s and ETA in a terminal', async () => {
    const { stream, text } = collect(true);
    let now = 0;
    const display = createProgressDisplay(stream, { nowMs: () => now });
    display.update(statusOf({ imagesDone: 0 }));
    now = 2000;
    display.update(statusOf({ imagesDone: 40, imagesPerSecond: 20, itemErrors: 1 }));
    display.stop();
    const shown = text();
    expect(shown).toMatch(/40\/100 images \| 20\.0 images\/s \| ETA 3 s \| 1 item errors \| 0 failed jobs/);
    expect(shown).toContain('\u001b[?25l'); // cursor hidden while the bar runs…
    expect(shown).toContain('\u001b[?25h'); // …and shown again after
  });

  it('ends a watch with one summary sentence', () => {
    const finished = statusOf({ imagesDone: 100, itemErrors: 2, jobsDone: 10, imagesQueued: 0, finished: true, lastDoneAtMs: 21_000, imagesPerSecond: 5 });
    expect(runState(finished)).toBe('finished');
    expect(formatRunSummary(finished)).toBe('Run r1 finished: 100 of 100 images have records (2 error records), 0 failed jobs, 20.0 s at 5.0 images/s.\n');
    const failed = statusOf({ imagesDone: 90, jobsDone: 9, jobsFailed: 1, imagesInFailedJobs: 10, imagesQueued: 0, finished: true, failedReasons: { '7': 'STORE_UNAVAILABLE: gone' } });
    expect(runState(failed)).toBe('failed');
    expect(formatRunSummary(failed)).toBe(
      'Run r1 failed: 1 of 10 jobs failed (10 images without records); 90 of 100 images have records (0 error records). First failed job 7: STORE_UNAVAILABLE: gone\n',
    );
    expect(formatProgressLine(failed)).toBe('[r1] 90/100 images (90.0%), - images/s, ETA 0 s, 0 item errors, 1 failed jobs');
  });
});
