import { z } from 'zod';

/** One class of a top-k answer. */
export const topEntrySchema = z.object({
  index: z.number().int().nonnegative(),
  wnid: z.string(),
  label: z.string(),
  p: z.number(),
});

export const labelRecordSchema = z.object({
  uri: z.string(),
  run: z.string(),
  model: z.object({ name: z.string(), sha256: z.string() }),
  top: z.array(topEntrySchema).min(1),
});

export const errorRecordSchema = z.object({
  uri: z.string(),
  run: z.string(),
  /** The model of the worker that tried (absent in records written before this field existed). */
  model: z.object({ name: z.string(), sha256: z.string() }).optional(),
  error: z.object({ code: z.string(), message: z.string() }),
});

/** A record: the result for one item, labels or an error with a stable code. */
export const recordSchema = z.union([labelRecordSchema, errorRecordSchema]);

export type TopEntry = z.infer<typeof topEntrySchema>;
export type LabelRecord = z.infer<typeof labelRecordSchema>;
export type ErrorRecord = z.infer<typeof errorRecordSchema>;
export type ResultRecord = z.infer<typeof recordSchema>;

export function isErrorRecord(record: ResultRecord): record is ErrorRecord {
  return 'error' in record;
}
