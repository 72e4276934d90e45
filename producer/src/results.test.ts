import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultRecord } from '@labelq/shared/record';
import { LocalStore } from '@labelq/shared/store/local-store';
import { recordKey } from '@labelq/shared/store/record-store';
import { csvColumns, csvField, csvHeader, recordToCsvRow } from './format-csv.ts';
import { readRunRecords } from './results.ts';
import { collect } from './sources/collect.ts';

const model = { name: 'resnet50-keras', sha256: 'ab'.repeat(32) };

function labelRecord(run: string, uri: string, index: number): ResultRecord {
  return {
    uri,
    run,
    model,
    top: [
      { index, wnid: `n0${index}`, label: `label ${index}`, p: 0.75 },
      { index: index + 1, wnid: `n0${index + 1}`, label: `label ${index + 1}`, p: 0.25 },
    ],
  };
}

function toJsonl(records: ResultRecord[]): string {
  return records.map((record) => `${JSON.stringify(record)}\n`).join('');
}

describe('readRunRecords on a local store', () => {
  let root: string;
  let store: LocalStore;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'labelq-results-'));
    store = new LocalStore(root);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('yields every record of the run in chunk order, and none of other runs', async () => {
    const run = 'run-a';
    const expected: ResultRecord[] = [];
    // 25 chunks (more than the read-ahead), written out of order.
    for (const chunk of [3, 0, 24, 1, 2, ...Array.from({ length: 20 }, (_, i) => i + 4)]) {
      const records = [labelRecord(run, `s3://b/${chunk}-0.jpg`, chunk), labelRecord(run, `s3://b/${chunk}-1.jpg`, chunk)];
      if (chunk === 2) records.push({ uri: 's3://b/broken.jpg', run, error: { code: 'IMAGE_DECODE_FAILED', message: 'The image could not be decoded.' } });
      await store.put(recordKey(run, chunk), toJsonl(records));
    }
    for (let chunk = 0; chunk < 25; chunk += 1) {
      expected.push(labelRecord(run, `s3://b/${chunk}-0.jpg`, chunk), labelRecord(run, `s3://b/${chunk}-1.jpg`, chunk));
      if (chunk === 2) expected.push({ uri: 's3://b/broken.jpg', run, error: { code: 'IMAGE_DECODE_FAILED', message: 'The image could not be decoded.' } });
    }
    await store.put(recordKey('run-ab', 0), toJsonl([labelRecord('run-ab', 's3://b/other.jpg', 1)]));
    await store.put(`${run}/records/notes.txt`, 'not a record object');

    expect(await collect(readRunRecords(store, run))).toEqual(expected);
  });

  it('yields nothing for a run without records', async () => {
    expect(await collect(readRunRecords(store, 'run-none'))).toEqual([]);
  });

  it('fails with RECORD_INVALID naming the object and the line for a line that is not a record', async () => {
    await store.put(recordKey('run-bad', 0), `${JSON.stringify(labelRecord('run-bad', 's3://b/x.jpg', 1))}\n{"uri": "s3://b/y.jpg"}\n`);
    await expect(collect(readRunRecords(store, 'run-bad'))).rejects.toMatchObject({
      code: 'RECORD_INVALID',
      message: expect.stringMatching(/^Line 2 of file:\/\/.*run-bad\/records\/00000000\.jsonl is not a labelq record/),
    });
    await store.put(recordKey('run-bad2', 0), '{"uri": \n');
    await expect(collect(readRunRecords(store, 'run-bad2'))).rejects.toMatchObject({ code: 'RECORD_INVALID', message: expect.stringContaining('is not JSON') });
  });
});

describe('CSV', () => {
  it('quotes fields that need it (RFC 4180) and leaves the others alone', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField(0.5)).toBe('0.5');
    expect(csvField(undefined)).toBe('');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(' padded')).toBe('" padded"');
  });

  it('writes one row per record: top-1 columns and top-k as JSON, or the error', () => {
    expect(csvHeader()).toBe(`${csvColumns.join(',')}\r\n`);
    const record: ResultRecord = {
      uri: 's3://b/cat, "tabby".jpg',
      run: 'run-1',
      model,
      top: [
        { index: 281, wnid: 'n02123045', label: 'tabby', p: 0.5 },
        { index: 282, wnid: 'n02123159', label: 'tiger_cat', p: 0.25 },
      ],
    };
    expect(recordToCsvRow(record)).toBe(
      '"s3://b/cat, ""tabby"".jpg",run-1,281,n02123045,tabby,0.5,' +
        '"[{""index"":281,""wnid"":""n02123045"",""label"":""tabby"",""p"":0.5},{""index"":282,""wnid"":""n02123159"",""label"":""tiger_cat"",""p"":0.25}]",,\r\n',
    );
    const error: ResultRecord = { uri: '/data/x.jpg', run: 'run-1', error: { code: 'FETCH_NOT_FOUND', message: 'No file /data/x.jpg, said the disk.' } };
    expect(recordToCsvRow(error)).toBe('/data/x.jpg,run-1,,,,,,FETCH_NOT_FOUND,"No file /data/x.jpg, said the disk."\r\n');
  });

  it('round-trips through a CSV parser-like split for simple rows', () => {
    const row = recordToCsvRow(labelRecord('r', '/data/a.jpg', 3)).trimEnd();
    expect(row.split(',').slice(0, 6)).toEqual(['/data/a.jpg', 'r', '3', 'n03', 'label 3', '0.75']);
  });
});
