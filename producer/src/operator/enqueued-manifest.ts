import { z } from 'zod';
import { chunkName } from '@labelq/shared/job';
import type { RecordStore } from '@labelq/shared/store/record-store';

/**
 * What the producer enqueued, kept in the store beside the records so that `labelq verify` and `labelq retry`
 * know every chunk's URIs long after BullMQ removed the completed jobs (and without Redis at all):
 *
 *   <run>/enqueued/<first chunk>.jsonl   one line per chunk: {"chunk": 3, "uris": ["s3://…", …]}
 *
 * One object per round of chunks added together (written before the round's jobs are added, so the manifest
 * always holds at least what the queue got). Re-enqueuing writes only the chunks it adds.
 */
export function enqueuedPrefix(run: string): string {
  return `${run}/enqueued/`;
}

export function enqueuedKey(run: string, firstChunk: number): string {
  return `${enqueuedPrefix(run)}${chunkName(firstChunk)}.jsonl`;
}

const enqueuedLineSchema = z.object({
  chunk: z.number().int().nonnegative(),
  uris: z.array(z.string()),
});

export interface EnqueuedChunk {
  chunk: number;
  uris: string[];
}

/** Writes one round of chunks as one object. */
export async function writeEnqueuedChunks(store: RecordStore, run: string, chunks: readonly EnqueuedChunk[]): Promise<void> {
  if (chunks.length === 0) return;
  const body = chunks.map(({ chunk, uris }) => JSON.stringify({ chunk, uris })).join('\n') + '\n';
  await store.put(enqueuedKey(run, chunks[0]!.chunk), body);
}

export interface EnqueuedManifest {
  /** chunk -> its URIs, in job order. A chunk found in two objects keeps the later object's URIs. */
  chunks: Map<number, string[]>;
  /** Objects or lines that could not be read, as sentences. */
  problems: string[];
}

/** Reads every manifest object of a run (an empty manifest when the run has none, e.g. enqueued by `labelq label`). */
export async function readEnqueuedManifest(store: RecordStore, run: string): Promise<EnqueuedManifest> {
  const chunks = new Map<number, string[]>();
  const problems: string[] = [];
  for await (const key of store.list(enqueuedPrefix(run))) {
    if (!key.endsWith('.jsonl')) continue;
    const body = await store.get(key);
    if (body === undefined) continue;
    const lines = body.toString('utf8').split('\n');
    lines.forEach((text, index) => {
      if (text.trim() === '') return;
      let parsed: z.ZodSafeParseResult<EnqueuedChunk>;
      try {
        parsed = enqueuedLineSchema.safeParse(JSON.parse(text));
      } catch (error) {
        problems.push(`Line ${index + 1} of ${store.url}${key} is not JSON: ${(error as Error).message}.`);
        return;
      }
      if (!parsed.success) {
        problems.push(`Line ${index + 1} of ${store.url}${key} is not a {"chunk", "uris"} object.`);
        return;
      }
      chunks.set(parsed.data.chunk, parsed.data.uris);
    });
  }
  return { chunks, problems };
}
