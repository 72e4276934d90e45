import { z } from 'zod';
import { LabelqError } from '@labelq/shared/errors';

/** Version of a schedule's stored definition (the BullMQ job scheduler's template data). */
export const scheduleDefinitionVersion = 1;

/**
 * A schedule name: it is the BullMQ job scheduler id and the start of every run id it makes
 * (`<name>-YYYYMMDD-HHMMSS-mmm`, at most 64 characters), so it is short and has no ":".
 */
export const scheduleNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/, 'a schedule name is 1-40 characters: letters, digits, "_" or "-", starting with a letter or digit');

/**
 * What a firing needs, stored as the data of the job scheduler's template: every firing job carries it, so a
 * worker needs nothing else to process the firing.
 */
export const scheduleDefinitionSchema = z.object({
  v: z.literal(scheduleDefinitionVersion),
  name: scheduleNameSchema,
  /** `s3://bucket/prefix/`: the objects listed at each firing. */
  source: z.string().regex(/^s3:\/\/[^/]+\//, 'a schedule source is s3://bucket/prefix/'),
  /** Normalised store URL (`normaliseStoreUrl`) of every run the schedule starts. */
  out: z.string().min(1),
  chunkSize: z.number().int().positive(),
  /** The model the schedule's records are made with; objects labelled with another model are labelled again. */
  model: z.object({ name: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
});

export type ScheduleDefinition = z.infer<typeof scheduleDefinitionSchema>;

/** Name of a firing job (one per firing of any schedule). */
export const firingJobName = 'fire';

export function checkScheduleName(name: string): string {
  const parsed = scheduleNameSchema.safeParse(name);
  if (!parsed.success) throw new LabelqError('CONFIG_INVALID', `The schedule name "${name}" is not valid: ${parsed.error.issues[0]?.message ?? 'invalid'}.`);
  return parsed.data;
}

/** The run id of the firing due at `firedAtMs`: `<name>-YYYYMMDD-HHMMSS-mmm` (UTC), the same for every attempt of that firing. */
export function firingRunId(name: string, firedAtMs: number): string {
  const iso = new Date(firedAtMs).toISOString(); // 2026-11-27T21:02:04.123Z
  const stamp = `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}-${iso.slice(20, 23)}`;
  return `${name}-${stamp}`;
}
