import { z } from 'zod';

/** Version of the job payload; a worker refuses payloads it does not know (JOB_PAYLOAD_INVALID). */
export const jobPayloadVersion = 1;

export const runIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a run id is 1-64 characters: letters, digits, ".", "_" or "-", starting with a letter or digit');

/** The data of one BullMQ job: a chunk of item URIs of one run. */
export const jobDataSchema = z.object({
  v: z.literal(jobPayloadVersion),
  run: runIdSchema,
  chunk: z.number().int().nonnegative(),
  /** Where the run's records go: `s3://bucket/prefix` or `file:///absolute/folder`. */
  out: z.string().min(1),
  uris: z.array(z.string().min(1)).min(1),
});

export type JobData = z.infer<typeof jobDataSchema>;

/** Name given to every labelling job in the queue. */
export const labelJobName = 'label';

/** Deterministic job id: the same run and chunk index always give the same id, so re-enqueuing adds nothing. */
export function jobIdFor(run: string, chunk: number): string {
  return `${run}.${chunkName(chunk)}`;
}

/** Zero-padded chunk index, so that keys sort in enqueue order. */
export function chunkName(chunk: number): string {
  return String(chunk).padStart(8, '0');
}
