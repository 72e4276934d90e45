import { describe, expect, it } from 'vitest';
import { LabelqError } from './errors.ts';
import { parseItemUri } from './uri.ts';

function errorOf(uri: string): LabelqError {
  try {
    parseItemUri(uri);
  } catch (error) {
    if (error instanceof LabelqError) return error;
    throw error;
  }
  throw new Error(`${uri} was accepted`);
}

describe('parseItemUri', () => {
  it('reads s3 URIs, keeping the key literally', () => {
    expect(parseItemUri('s3://photos/2024/cat%20one.jpg')).toEqual({ kind: 's3', bucket: 'photos', key: '2024/cat%20one.jpg' });
    expect(parseItemUri('S3://b/k.png')).toEqual({ kind: 's3', bucket: 'b', key: 'k.png' });
    expect(parseItemUri('s3://b/dir/with space/x?.jpg')).toEqual({ kind: 's3', bucket: 'b', key: 'dir/with space/x?.jpg' });
  });

  it('reads http and https URLs', () => {
    const parsed = parseItemUri('https://example.com/a/b.jpg?x=1');
    expect(parsed.kind).toBe('http');
    if (parsed.kind === 'http') expect(parsed.url.href).toBe('https://example.com/a/b.jpg?x=1');
    expect(parseItemUri('http://127.0.0.1:8080/x.png').kind).toBe('http');
  });

  it('reads file URLs (percent-decoded) and absolute paths', () => {
    expect(parseItemUri('file:///data/cat%20one.jpg')).toEqual({ kind: 'file', path: '/data/cat one.jpg' });
    expect(parseItemUri('file://localhost/data/x.jpg')).toEqual({ kind: 'file', path: '/data/x.jpg' });
    expect(parseItemUri('/data/my photo.jpg')).toEqual({ kind: 'file', path: '/data/my photo.jpg' });
  });

  it('refuses schemes it cannot fetch, naming the scheme and the accepted forms', () => {
    const error = errorOf('ftp://host/x.jpg');
    expect(error.code).toBe('URI_UNSUPPORTED_SCHEME');
    expect(error.message).toContain('"ftp:"');
    expect(error.message).toContain('s3://bucket/key');
    expect(error.message).toContain('https://');
    expect(errorOf('gs://bucket/x.jpg').code).toBe('URI_UNSUPPORTED_SCHEME');
    expect(error.kind).toBe('item');
  });

  it.each([
    ['', 'empty'],
    ['images/cat.jpg', 'relative path'],
    ['./cat.jpg', 'relative path'],
    ['cat.jpg', 'relative path'],
    [' s3://b/k.jpg', 'whitespace'],
    ['s3://b/k.jpg ', 'whitespace'],
    ['s3://b/k\t.jpg', 'control character'],
    ['/data/a\nb.jpg', 'control character'],
    ['s3://bucket', 'no object key'],
    ['s3://bucket/', 'no object key'],
    ['s3:///key.jpg', 'no bucket'],
    ['s3://bucket/folder/', 'names a folder'],
    ['/data/folder/', 'names a folder'],
    ['http://', 'not a well-formed URL'],
    ['file://otherhost/x.jpg', 'file:///absolute/path'],
  ])('refuses %j (%s) as URI_INVALID', (uri, why) => {
    const error = errorOf(uri);
    expect(error.code).toBe('URI_INVALID');
    expect(error.message).toContain(why);
  });

  it('cuts very long URIs in messages', () => {
    const error = errorOf(`relative/${'x'.repeat(5000)}.jpg`);
    expect(error.message.length).toBeLessThan(500);
  });
});
