import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemError } from '@labelq/shared/errors';
import { createHttpFetcher, describeUrl, type HttpFetchOptions } from './fetch-http.ts';
import { labelqFailure as failure } from '../../../test/support/expect-failure.ts';

/** A real HTTP server on 127.0.0.1 with one route per behaviour; `hits` counts requests per path. */
const hits = new Map<string, number>();
const image = Buffer.from('pretend-image-bytes');
const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  hits.set(path, (hits.get(path) ?? 0) + 1);
  const redirect = /^\/redirect\/(\d+)$/.exec(path);
  if (redirect) {
    const left = Number(redirect[1]);
    res.writeHead(302, { location: left === 0 ? '/ok' : `/redirect/${left - 1}` }).end();
    return;
  }
  switch (path) {
    case '/ok':
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': image.length }).end(image);
      return;
    case '/missing':
      res.writeHead(404).end('not here');
      return;
    case '/gone':
      res.writeHead(410).end();
      return;
    case '/forbidden':
      res.writeHead(403).end();
      return;
    case '/unauthorised':
      res.writeHead(401).end();
      return;
    case '/teapot':
      res.writeHead(418).end();
      return;
    case '/always-500':
      res.writeHead(500).end('broken');
      return;
    case '/503-then-ok':
      if (hits.get(path) === 1) res.writeHead(503, { 'retry-after': '0' }).end();
      else res.writeHead(200, { 'content-length': image.length }).end(image);
      return;
    case '/never-answers':
      return; // holds the request open
    case '/big-with-length':
      res.writeHead(200, { 'content-length': 5000 });
      res.write(Buffer.alloc(100));
      return; // never finishes: the fetcher must stop on the header alone
    case '/big-chunked': {
      res.writeHead(200, { 'content-type': 'image/png' });
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent >= 20) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write(Buffer.alloc(500));
        sent++;
      }, 5);
      return;
    }
    case '/cut-short':
      res.writeHead(200, { 'content-length': 1000 });
      res.write(Buffer.alloc(100));
      setTimeout(() => res.destroy(), 20);
      return;
    case '/to-file':
      res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      return;
    default:
      res.writeHead(500).end();
  }
});
let base = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

// The test server is on loopback, which the address policy refuses unless allowed (as LABELQ_HTTP_ALLOWED_HOSTS would).
const options: HttpFetchOptions = { maxImageBytes: 1000, timeoutMs: 2000, maxRedirects: 3, retries: 2, retryBaseDelayMs: 10, allowedHosts: ['127.0.0.1'] };

describe('createHttpFetcher against a local server', () => {
  const fetcher = createHttpFetcher(options);
  afterAll(() => fetcher.close());

  it('200 → the body', async () => {
    expect(await fetcher.fetch(`${base}/ok`)).toEqual(image);
  });

  it('404 and 410 → FETCH_NOT_FOUND; 401 and 403 → FETCH_FORBIDDEN; 418 → FETCH_HTTP_ERROR, none retried', async () => {
    expect((await failure(fetcher.fetch(`${base}/missing`))).code).toBe('FETCH_NOT_FOUND');
    expect((await failure(fetcher.fetch(`${base}/gone`))).code).toBe('FETCH_NOT_FOUND');
    expect((await failure(fetcher.fetch(`${base}/forbidden`))).code).toBe('FETCH_FORBIDDEN');
    expect((await failure(fetcher.fetch(`${base}/unauthorised`))).code).toBe('FETCH_FORBIDDEN');
    const teapot = await failure(fetcher.fetch(`${base}/teapot`));
    expect(teapot.code).toBe('FETCH_HTTP_ERROR');
    expect(teapot.message).toContain('418');
    expect([hits.get('/missing'), hits.get('/forbidden'), hits.get('/teapot')]).toEqual([1, 1, 1]);
  });

  it('500 is retried (1 + 2 attempts) and then FETCH_HTTP_ERROR', async () => {
    const error = await failure(fetcher.fetch(`${base}/always-500`));
    expect(error.code).toBe('FETCH_HTTP_ERROR');
    expect(error.message).toContain('500');
    expect(error.message).toContain('all 3 attempts');
    expect(hits.get('/always-500')).toBe(3);
  });

  it('a 503 followed by a 200 succeeds on the retry', async () => {
    expect(await fetcher.fetch(`${base}/503-then-ok`)).toEqual(image);
    expect(hits.get('/503-then-ok')).toBe(2);
  });

  it('a server that never answers → FETCH_TIMEOUT after timeoutMs', async () => {
    const quick = createHttpFetcher({ ...options, timeoutMs: 300 });
    const started = performance.now();
    const error = await failure(quick.fetch(`${base}/never-answers`));
    expect(error.code).toBe('FETCH_TIMEOUT');
    expect(error.message).toContain('300 ms');
    expect(performance.now() - started).toBeLessThan(1500);
    quick.close();
  });

  it('an oversized body → FETCH_TOO_LARGE, from Content-Length alone or while counting a chunked body', async () => {
    const declared = await failure(fetcher.fetch(`${base}/big-with-length`));
    expect(declared.code).toBe('FETCH_TOO_LARGE');
    expect(declared.message).toContain('5000 bytes (Content-Length)');
    const counted = await failure(fetcher.fetch(`${base}/big-chunked`));
    expect(counted.code).toBe('FETCH_TOO_LARGE');
    expect(counted.message).toContain('sent more than the 1000 bytes');
  });

  it('a body cut short by the server is retried, then FETCH_FAILED', async () => {
    const error = await failure(fetcher.fetch(`${base}/cut-short`));
    expect(error.code).toBe('FETCH_FAILED');
    expect(hits.get('/cut-short')).toBe(3);
  });

  it('follows up to maxRedirects redirects and refuses one more', async () => {
    expect(await fetcher.fetch(`${base}/redirect/2`)).toEqual(image); // 3 redirects: /redirect/2 → 1 → 0 → /ok
    const error = await failure(fetcher.fetch(`${base}/redirect/3`));
    expect(error.code).toBe('FETCH_HTTP_ERROR');
    expect(error.message).toContain('after 3 redirects');
  });

  it('does not follow a redirect to a file:// URL', async () => {
    const error = await failure(fetcher.fetch(`${base}/to-file`));
    expect(error.code).toBe('FETCH_HTTP_ERROR');
    expect(error.message).toContain('file:');
  });

  it('connection refused and an unknown host → FETCH_FAILED', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await failure(fetcher.fetch(`http://127.0.0.1:${port}/x.jpg`));
    expect(refused.code).toBe('FETCH_FAILED');
    expect(refused.message).toContain('refused the connection');
    const unknown = await failure(fetcher.fetch('http://no-such-host.invalid/x.jpg'));
    expect(['FETCH_FAILED', 'FETCH_TIMEOUT']).toContain(unknown.code); // FETCH_FAILED where DNS answers at all
  });

  it('keeps credentials and query strings out of messages', async () => {
    const error = await failure(fetcher.fetch(`http://user:secret@127.0.0.1:${new URL(base).port}/missing?X-Amz-Signature=abcdef`));
    expect(error.message).not.toMatch(/secret|abcdef|user/);
    expect(error.message).toContain('/missing?…');
    expect(describeUrl(new URL('https://a:b@h.example/p?q=1'))).toBe('https://h.example/p?…');
  });

  it('lets the caller abort: the caller\'s reason comes back, not an item error', async () => {
    const controller = new AbortController();
    const pending = fetcher.fetch(`${base}/never-answers`, controller.signal);
    setTimeout(() => controller.abort(new Error('worker shutting down')), 50);
    await expect(pending).rejects.toThrow('worker shutting down');
  });

  it('checkUrl sees every hop (an extra check after the address policy)', async () => {
    const seen: string[] = [];
    const guarded = createHttpFetcher(options, {
      checkUrl: (url) => {
        seen.push(url.pathname);
        if (url.pathname === '/ok') throw itemError('FETCH_ADDRESS_REFUSED', `${url.host} is refused.`);
      },
    });
    const error = await failure(guarded.fetch(`${base}/redirect/1`));
    expect(error.code).toBe('FETCH_ADDRESS_REFUSED');
    expect(seen).toEqual(['/redirect/1', '/redirect/0', '/ok']);
    guarded.close();
  });
});
