import pLimit from 'p-limit';
import { parseRecordLines } from '@labelq/producer/results';
import { isErrorRecord, type ResultRecord, type TopEntry } from '@labelq/shared/record';
import { chunkOfRecordKey, recordKey, runRecordsPrefix, type RecordStore } from '@labelq/shared/store/record-store';

/** A label record of the sample, with where it sits: the chunk's record object and its place in it. */
export interface SampledPrediction {
  chunk: number;
  item: number;
  uri: string;
  top: TopEntry[];
}

/** An error record of the sample. */
export interface SampledItemError {
  chunk: number;
  item: number;
  uri: string;
  code: string;
  message: string;
}

export interface RecordSample {
  predictions: SampledPrediction[];
  itemErrors: SampledItemError[];
  /** Record objects of the run in the store, and how many of them (the newest chunks) were read. */
  recordObjects: number;
  recordObjectsRead: number;
}

export interface RecordSampleLimits {
  /** Record objects read, from the highest chunk down (the newest work of a run processed in order). */
  maxRecordObjects: number;
  maxPredictions: number;
  maxItemErrors: number;
}

export const defaultRecordSampleLimits: RecordSampleLimits = { maxRecordObjects: 16, maxPredictions: 24, maxItemErrors: 50 };

/** Record objects read at once. */
const readAhead = 8;

/**
 * A sample of a run's records for the runs view: predictions and item errors from the newest record objects
 * (highest chunks first). Lists the run's records prefix once, then reads at most `maxRecordObjects` objects.
 */
export async function sampleRunRecords(store: RecordStore, run: string, limits: RecordSampleLimits = defaultRecordSampleLimits): Promise<RecordSample> {
  const chunks: number[] = [];
  for await (const key of store.list(runRecordsPrefix(run))) {
    const chunk = chunkOfRecordKey(key);
    if (chunk !== undefined) chunks.push(chunk);
  }
  chunks.sort((a, b) => b - a);
  const newest = chunks.slice(0, limits.maxRecordObjects);
  const limit = pLimit(readAhead);
  const objects = await Promise.all(newest.map((chunk) => limit(async () => ({ chunk, records: await readRecordObject(store, run, chunk) }))));

  const predictions: SampledPrediction[] = [];
  const itemErrors: SampledItemError[] = [];
  for (const { chunk, records } of objects) {
    records.forEach((record, item) => {
      if (isErrorRecord(record)) {
        if (itemErrors.length < limits.maxItemErrors) itemErrors.push({ chunk, item, uri: record.uri, code: record.error.code, message: record.error.message });
      } else if (predictions.length < limits.maxPredictions) {
        predictions.push({ chunk, item, uri: record.uri, top: record.top });
      }
    });
  }
  return { predictions, itemErrors, recordObjects: chunks.length, recordObjectsRead: newest.length };
}

/** The records of one chunk's record object, in the order of its job's URIs (empty when there is none yet). */
export async function readRecordObject(store: RecordStore, run: string, chunk: number): Promise<ResultRecord[]> {
  const key = recordKey(run, chunk);
  const body = await store.get(key);
  return body === undefined ? [] : [...parseRecordLines(body.toString('utf8'), `${store.url}${key}`)];
}
