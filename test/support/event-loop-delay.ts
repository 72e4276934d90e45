import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** What the event loop of this thread went through while it was watched, in ms. */
export interface EventLoopDelay {
  /** Timer ticks recorded (one per `resolutionMs` while the loop is free). */
  ticks: number;
  resolutionMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Longest garbage collection pause of this thread meanwhile: a large delay it explains is not a blocking call. */
  longestGcMs: number;
}

export interface EventLoopDelayWatch {
  /** Stops watching and summarises. Waits a few ticks first, so a block that just ended is recorded too. */
  stop(): Promise<EventLoopDelay>;
}

/**
 * Watches this thread's event loop with `perf_hooks.monitorEventLoopDelay`: a libuv timer every `resolutionMs`
 * records the time between its ticks, so a free loop reads about `resolutionMs` and a loop blocked for 3 s
 * reads about 3000 ms. The first tick after enabling (or after reset()) records nothing, which is why this
 * waits a few ticks before returning: a block that starts right away is then measured, not dropped.
 */
export async function watchEventLoopDelay(resolutionMs = 10): Promise<EventLoopDelayWatch> {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  let longestGcMs = 0;
  const gcObserver = new PerformanceObserver((entries) => {
    for (const entry of entries.getEntries()) longestGcMs = Math.max(longestGcMs, entry.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  histogram.enable();
  await sleep(resolutionMs * 3);
  const ms = (ns: number): number => ns / 1e6;
  return {
    async stop() {
      await sleep(resolutionMs * 3);
      histogram.disable();
      gcObserver.disconnect();
      return {
        ticks: histogram.count,
        resolutionMs,
        p50Ms: ms(histogram.percentile(50)),
        p99Ms: ms(histogram.percentile(99)),
        maxMs: ms(histogram.max),
        longestGcMs,
      };
    },
  };
}

/** "p50 10 ms, p99 31 ms, max 57 ms (812 ticks of 10 ms; longest GC pause 4 ms)". */
export function formatEventLoopDelay(delay: EventLoopDelay): string {
  const round = (value: number): number => Math.round(value);
  return `p50 ${round(delay.p50Ms)} ms, p99 ${round(delay.p99Ms)} ms, max ${round(delay.maxMs)} ms (${delay.ticks} ticks of ${delay.resolutionMs} ms; longest GC pause ${round(delay.longestGcMs)} ms)`;
}
