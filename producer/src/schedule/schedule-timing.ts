import { getNextMillis, type RepeatOptions } from 'bullmq';
import { LabelqError } from '@labelq/shared/errors';

/** How often a schedule fires: a cron expression (5 fields, or 6 with seconds first) or a fixed interval. */
export type ScheduleTiming = { cron: string; tz?: string } | { everyMs: number };

/** Shortest interval accepted by `--every`, in ms (tests use a few hundred ms). */
export const minEveryMs = 100;

/**
 * Checks `--cron` / `--every` and gives BullMQ's repeat options. A bad expression is refused with
 * CONFIG_INVALID naming it, before anything is written to Redis.
 */
export function repeatOptionsFor(timing: { cron?: string; every?: string; tz?: string }): { repeat: Omit<RepeatOptions, 'key'>; timing: ScheduleTiming } {
  if ((timing.cron === undefined) === (timing.every === undefined)) {
    throw new LabelqError('CONFIG_INVALID', 'A schedule needs exactly one of --cron "<expression>" (e.g. --cron "0 2 * * *" for 02:00 every day) or --every <ms>.');
  }
  if (timing.tz !== undefined) {
    if (timing.every !== undefined) throw new LabelqError('CONFIG_INVALID', '--tz applies to --cron only: an --every interval does not depend on the time zone.');
    checkTimeZone(timing.tz);
  }
  if (timing.every !== undefined) {
    const everyMs = Number(timing.every);
    if (!Number.isInteger(everyMs) || everyMs < minEveryMs) {
      throw new LabelqError('CONFIG_INVALID', `--every ${timing.every} is not valid: give the interval between firings in whole milliseconds, at least ${minEveryMs}.`);
    }
    return { repeat: { every: everyMs }, timing: { everyMs } };
  }
  const cron = (timing.cron ?? '').trim();
  const fields = cron === '' ? 0 : cron.split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    throw new LabelqError(
      'CONFIG_INVALID',
      `--cron "${timing.cron}" is not a cron expression: it has ${fields} fields, and a cron expression has 5 (minute hour day-of-month month day-of-week, e.g. "0 2 * * *" for 02:00 every day) or 6 (seconds first).`,
    );
  }
  const repeat: Omit<RepeatOptions, 'key'> = { pattern: cron, ...(timing.tz === undefined ? {} : { tz: timing.tz }) };
  let next: number | undefined;
  try {
    next = getNextMillis(Date.now(), repeat);
  } catch (error) {
    throw new LabelqError(
      'CONFIG_INVALID',
      `--cron "${timing.cron}"${timing.tz === undefined ? '' : ` (time zone ${timing.tz})`} is not a valid cron expression: ${(error as Error).message}. Example: "0 2 * * *" runs at 02:00 every day.`,
      { cause: error },
    );
  }
  if (next === undefined || !Number.isFinite(next)) {
    throw new LabelqError('CONFIG_INVALID', `--cron "${timing.cron}" never fires: no date matches it.`);
  }
  return { repeat, timing: timing.tz === undefined ? { cron } : { cron, tz: timing.tz } };
}

/** "cron 0 2 * * *" or "every 3600000 ms", for `schedule list`. */
export function describeTiming(scheduler: { pattern?: string | null; every?: number | null; tz?: string | null }): string {
  if (scheduler.pattern !== undefined && scheduler.pattern !== null) return `cron "${scheduler.pattern}"${scheduler.tz ? ` ${scheduler.tz}` : ''}`;
  if (scheduler.every !== undefined && scheduler.every !== null) return `every ${scheduler.every} ms`;
  return '?';
}

function checkTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw new LabelqError('CONFIG_INVALID', `--tz ${tz} is not a time zone this system knows: give an IANA name such as UTC or Europe/Paris.`);
  }
}
