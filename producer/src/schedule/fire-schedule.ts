import type { S3Client } from '@aws-sdk/client-s3';
import { LabelqError } from '@labelq/shared/errors';
import type { Logger } from '@labelq/shared/logger';
import type { ModelIdentity } from '@labelq/shared/model-card';
import type { LabelQueue } from '@labelq/shared/queue';
import type { RunRegistry } from '@labelq/shared/run-registry';
import { parseS3Url } from '@labelq/shared/s3-client';
import { enqueueSource } from '../enqueue.ts';
import { s3PrefixEntryBatches } from '../sources/s3-prefix-source.ts';
import type { Source, SourceEntry } from '../sources/source-types.ts';
import { firingRunId, type ScheduleDefinition } from './schedule-definition.ts';
import type { ScheduleHistory } from './schedule-history.ts';
import type { FiringResult } from './schedule-queue.ts';

export interface FiringDependencies {
  queue: LabelQueue;
  registry: RunRegistry;
  history: ScheduleHistory;
  s3: () => S3Client;
  log: Logger;
  /** The model of the worker processing the firing: it must be the schedule's. */
  workerModel: ModelIdentity;
}

interface FreshObject {
  uri: string;
  version: string;
}

/** What tells one version of an object from another: its ETag, else its LastModified, else nothing (always new). */
export function objectVersion(entry: SourceEntry): string | undefined {
  if (entry.etag !== undefined && entry.etag !== '') return `etag:${entry.etag}`;
  if (entry.lastModifiedMs !== undefined) return `modified:${entry.lastModifiedMs}`;
  return undefined;
}

/**
 * One firing of a schedule: lists the source, keeps the objects this schedule has not enqueued yet with its
 * model (or whose ETag changed since), enqueues them as the run `<name>-<firing time>` and notes them as
 * enqueued. A firing with nothing new starts no run.
 *
 * Crash safety: the run id comes from the time the firing was due, and the list of objects to enqueue is saved
 * in Redis before the first job is added. A retry of the firing finds that list and enqueues exactly the same
 * objects into the same run, where `enqueueSource` adds only the chunks still missing; objects are noted as
 * enqueued only after the whole run is, so a crash never skips them.
 *
 * Memory: the URIs of the new objects are held until they are enqueued (about 150 bytes each).
 */
export async function fireSchedule(definition: ScheduleDefinition, firedAtMs: number, deps: FiringDependencies): Promise<FiringResult> {
  const { name, model } = definition;
  if (model.sha256 !== deps.workerModel.sha256) {
    throw new LabelqError(
      'MODEL_MISMATCH',
      `Schedule "${name}" labels with the model ${model.name} (sha256 ${model.sha256}), but this worker serves ${deps.workerModel.name} (sha256 ${deps.workerModel.sha256}): run the schedule's workers with that model, or add the schedule again with --model pointing at this worker's card.`,
    );
  }
  const run = firingRunId(name, firedAtMs);
  let listed: number;
  let fresh = await deps.history.pending(name, run);
  if (fresh !== undefined) {
    listed = fresh.length;
    deps.log.warn({ schedule: name, run, objects: fresh.length }, 'schedule firing retried: enqueueing the objects its first attempt listed');
  } else {
    ({ listed, fresh } = await listFresh(definition, firedAtMs, deps));
    if (fresh.length === 0) {
      deps.log.info({ schedule: name, listed, source: definition.source }, 'schedule fired: nothing new to label, no run started');
      await deps.history.recordFiring(name, { firedAtMs, run: undefined, listed, enqueued: 0 });
      return { schedule: name, run: undefined, listed, enqueued: 0 };
    }
    await deps.history.savePending(name, run, fresh);
  }

  const objects = fresh;
  const source: Source = {
    description: `${definition.source} (schedule ${name}: ${objects.length} new or changed objects)`,
    writtenLines: false,
    rereadable: true,
    async *batches() {
      yield objects.map(({ uri }) => ({ uri }));
    },
  };
  const result = await enqueueSource({ queue: deps.queue, registry: deps.registry, source, run, out: definition.out, chunkSize: definition.chunkSize });
  await deps.history.markEnqueued(name, model, objects);
  await deps.history.recordFiring(name, { firedAtMs, run, listed, enqueued: result.images });
  await deps.history.clearPending(name, run);
  deps.log.info({ schedule: name, run, listed, enqueued: result.images, jobs: result.jobs }, 'schedule fired: run enqueued');
  return { schedule: name, run, listed, enqueued: result.images };
}

/** Lists the source and keeps the objects this schedule has not enqueued at their current version with its model. */
async function listFresh(definition: ScheduleDefinition, firedAtMs: number, deps: FiringDependencies): Promise<{ listed: number; fresh: FreshObject[] }> {
  const { bucket, key: prefix } = parseS3Url(definition.source);
  let listed = 0;
  const fresh: FreshObject[] = [];
  for await (const batch of s3PrefixEntryBatches(deps.s3(), bucket, prefix)) {
    listed += batch.length;
    const versions = await deps.history.enqueuedVersions(
      definition.name,
      definition.model,
      batch.map((entry) => entry.uri),
    );
    batch.forEach((entry, i) => {
      const version = objectVersion(entry) ?? `listed:${firedAtMs}`;
      if (versions[i] !== version) fresh.push({ uri: entry.uri, version });
    });
  }
  return { listed, fresh };
}
