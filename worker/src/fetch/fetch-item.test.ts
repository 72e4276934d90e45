import { chmod, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileFetcher } from './fetch-file.ts';
import { createItemFetcher } from './fetch-item.ts';
import type { ItemFetcher } from './fetcher.ts';
import { labelqFailure as failure } from '../../../test/support/expect-failure.ts';

const limits = { maxImageBytes: 1000, timeoutMs: 2000, maxRedirects: 2 };
let dir = '';
const bytes = Buffer.from('small image bytes');

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'labelq-fetch-'));
  await writeFile(path.join(dir, 'small.jpg'), bytes);
  await writeFile(path.join(dir, 'with space é.jpg'), bytes);
  await writeFile(path.join(dir, 'large.jpg'), Buffer.alloc(1001));
  await writeFile(path.join(dir, 'locked.jpg'), bytes);
  await chmod(path.join(dir, 'locked.jpg'), 0o000);
  await mkdir(path.join(dir, 'folder.jpg'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createFileFetcher', () => {
  const files = createFileFetcher(limits);

  it('reads an absolute path and a percent-encoded file:// URI', async () => {
    expect(await files.fetch(path.join(dir, 'small.jpg'))).toEqual(bytes);
    expect(await files.fetch(pathToFileURL(path.join(dir, 'with space é.jpg')).href)).toEqual(bytes);
  });

  it('a missing file → FETCH_NOT_FOUND naming it', async () => {
    const error = await failure(files.fetch(path.join(dir, 'nope.jpg')));
    expect(error.code).toBe('FETCH_NOT_FOUND');
    expect(error.message).toContain('nope.jpg');
    expect((await failure(files.fetch(path.join(dir, 'small.jpg', 'below.jpg')))).code).toBe('FETCH_NOT_FOUND');
  });

  it('a file over maxImageBytes → FETCH_TOO_LARGE', async () => {
    const error = await failure(files.fetch(path.join(dir, 'large.jpg')));
    expect(error.code).toBe('FETCH_TOO_LARGE');
    expect(error.message).toContain('1001 bytes');
  });

  it('a directory → FETCH_FAILED saying it is a folder', async () => {
    const error = await failure(files.fetch(path.join(dir, 'folder.jpg')));
    expect(error.code).toBe('FETCH_FAILED');
    expect(error.message).toContain('is a folder');
  });

  it.skipIf(process.getuid?.() === 0)('an unreadable file → FETCH_FORBIDDEN (skipped as root: root reads mode 000 files)', async () => {
    expect((await failure(files.fetch(path.join(dir, 'locked.jpg')))).code).toBe('FETCH_FORBIDDEN');
  });
});

describe('createItemFetcher dispatches by URI form', () => {
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === '/cat.jpg' ? 200 : 404).end(req.url === '/cat.jpg' ? bytes : undefined);
  });
  let base = '';
  const s3Calls: string[] = [];
  // The S3 fetcher is the lead's; this stand-in only records that s3:// URIs reach whatever fetcher is injected.
  const s3: ItemFetcher = {
    async fetch(uri) {
      s3Calls.push(uri);
      return Buffer.from('from s3');
    },
  };
  // The test server is on loopback: allowed as LABELQ_HTTP_ALLOWED_HOSTS=127.0.0.1 would.
  const fetcher = createItemFetcher({ limits, s3, http: { allowedHosts: ['127.0.0.1'] } });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    fetcher.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('file paths, file:// URIs, http:// and s3:// each reach their fetcher', async () => {
    expect(await fetcher.fetch(path.join(dir, 'small.jpg'))).toEqual(bytes);
    expect(await fetcher.fetch(pathToFileURL(path.join(dir, 'small.jpg')).href)).toEqual(bytes);
    expect(await fetcher.fetch(`${base}/cat.jpg`)).toEqual(bytes);
    expect((await failure(fetcher.fetch(`${base}/dog.jpg`))).code).toBe('FETCH_NOT_FOUND');
    expect((await fetcher.fetch('s3://bucket/a/b.jpg')).toString()).toBe('from s3');
    expect(s3Calls).toEqual(['s3://bucket/a/b.jpg']);
  });

  it('a relative path → URI_INVALID telling to use an absolute path or file:// URI', async () => {
    const error = await failure(fetcher.fetch('images/cat.jpg'));
    expect(error.code).toBe('URI_INVALID');
    expect(error.message).toMatch(/absolute path/);
    expect(error.message).toMatch(/file:\/\//);
  });

  it('an unsupported scheme → URI_UNSUPPORTED_SCHEME; s3:// without an S3 fetcher too', async () => {
    expect((await failure(fetcher.fetch('ftp://example.com/cat.jpg'))).code).toBe('URI_UNSUPPORTED_SCHEME');
    const withoutS3 = createItemFetcher({ limits });
    const error = await failure(withoutS3.fetch('s3://bucket/key.jpg'));
    expect(error.code).toBe('URI_UNSUPPORTED_SCHEME');
    expect(error.message).toContain('no S3 fetcher');
    withoutS3.close();
  });

  it('unparsable URIs → URI_INVALID', async () => {
    expect((await failure(fetcher.fetch(''))).code).toBe('URI_INVALID');
    expect((await failure(fetcher.fetch('http://'))).code).toBe('URI_INVALID');
    expect((await failure(fetcher.fetch('file://remote-host/x.jpg'))).code).toBe('URI_INVALID');
  });
});
