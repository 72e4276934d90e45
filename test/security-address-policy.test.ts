import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@labelq/shared/config';
import { allowEntryProblem, createAddressPolicy } from '@labelq/worker/fetch/address-policy';
import { createHttpFetcher, type HttpFetchOptions } from '@labelq/worker/fetch/fetch-http';
import { labelqFailure as failure } from './support/expect-failure.ts';
import { startImageHttpServer, type ImageHttpServer } from './support/image-http-server.ts';

/**
 * The HTTP fetcher refuses internal addresses by default (FETCH_ADDRESS_REFUSED), before any byte is sent:
 * IP literals from the URL, host names after DNS resolution (against the address really connected to), and
 * every redirect target. Real servers listen on 127.0.0.1 and ::1; their hit counters prove nothing reached them.
 */
const image = Buffer.from('pretend image bytes');
const limits: HttpFetchOptions = { maxImageBytes: 10_000, timeoutMs: 3000, maxRedirects: 3, retries: 0 };
let v4: ImageHttpServer;
let v6: ImageHttpServer;

beforeAll(async () => {
  const files = new Map([['cat.jpg', image]]);
  v4 = await startImageHttpServer(files, '127.0.0.1');
  v6 = await startImageHttpServer(files, '::1');
});
afterAll(async () => {
  await Promise.all([v4?.close(), v6?.close()]);
});

describe('default policy: internal addresses are refused before connecting', () => {
  const fetcher = createHttpFetcher(limits);
  afterAll(() => fetcher.close());

  const refusedUrls = (): [string, string][] => [
    ['127.0.0.1 (IPv4 loopback)', `http://127.0.0.1:${v4.port}/files/cat.jpg`],
    ['::1 (IPv6 loopback)', `http://[::1]:${v6.port}/files/cat.jpg`],
    ['10/8', 'http://10.1.2.3/cat.jpg'],
    ['172.16/12', 'http://172.16.5.4/cat.jpg'],
    ['172.16/12 upper end', 'http://172.31.255.254/cat.jpg'],
    ['192.168/16', 'http://192.168.1.1/cat.jpg'],
    ['169.254.169.254 (metadata)', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'],
    ['fd00::/8 (unique local, AWS IPv6 metadata fd00:ec2::254)', 'http://[fd00:ec2::254]/latest/meta-data/'],
    ['fe80::/10 (IPv6 link-local)', 'http://[fe80::1]/cat.jpg'],
    ['IPv4-mapped IPv6 loopback', `http://[::ffff:127.0.0.1]:${v4.port}/files/cat.jpg`],
    ['IPv4-mapped IPv6 private', 'http://[::ffff:10.0.0.1]/cat.jpg'],
    ['0.0.0.0', `http://0.0.0.0:${v4.port}/files/cat.jpg`],
    ['127.0.0.1 as a decimal integer', `http://2130706433:${v4.port}/files/cat.jpg`],
    ['100.64/10 (shared; Alibaba metadata)', 'http://100.100.100.200/latest/meta-data/'],
  ];

  it('refuses each internal address with FETCH_ADDRESS_REFUSED, at once, and the loopback servers see nothing', async () => {
    for (const [what, url] of refusedUrls()) {
      const started = performance.now();
      const error = await failure(fetcher.fetch(url));
      expect(error.code, what).toBe('FETCH_ADDRESS_REFUSED');
      expect(error.message, what).toMatch(/was refused: .+ is in [0-9a-f.:]+\/\d+, .+\. Internal hosts must be listed in LABELQ_HTTP_ALLOWED_HOSTS/);
      expect(performance.now() - started, what).toBeLessThan(1000); // no connection attempt, no timeout
    }
    expect(v4.totalHits()).toBe(0);
    expect(v6.totalHits()).toBe(0);
  });

  it('refuses a host name that resolves to loopback (localhost) after resolving it', async () => {
    const error = await failure(fetcher.fetch(`http://localhost:${v4.port}/files/cat.jpg`));
    expect(error.code).toBe('FETCH_ADDRESS_REFUSED');
    expect(error.message).toMatch(/Fetching from localhost was refused: it resolves to (127\.0\.0\.1|::1), which is in (127\.0\.0\.0\/8|::1\/128)/);
    expect(v4.totalHits() + v6.totalHits()).toBe(0);
  });

  it('keeps public addresses allowed (range edges included)', () => {
    const policy = createAddressPolicy();
    for (const address of ['8.8.8.8', '172.15.255.255', '172.32.0.1', '11.0.0.1', '169.253.255.255', '192.169.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8']) {
      expect(policy.refusalOf(address), address).toBeUndefined();
    }
  });
});

describe('redirects are checked hop by hop', () => {
  // 127.0.0.1 is allowed (a trusted internal image server); ::1, localhost and metadata are not.
  const fetcher = createHttpFetcher({ ...limits, allowedHosts: ['127.0.0.1'] });
  afterAll(() => fetcher.close());

  it('an allowed host redirecting to a refused one → FETCH_ADDRESS_REFUSED, the target never contacted', async () => {
    for (const target of [`http://[::1]:${v6.port}/files/cat.jpg`, 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.5/cat.jpg']) {
      const error = await failure(fetcher.fetch(`${v4.base}/redirect?to=${encodeURIComponent(target)}`));
      expect(error.code, target).toBe('FETCH_ADDRESS_REFUSED');
    }
    expect(v6.totalHits()).toBe(0);
  });

  it('a redirect to a host name resolving to a refused address is refused after resolution', async () => {
    // localhost may resolve to ::1 (refused) or to 127.0.0.1 (allowed by address): either the fetch is refused
    // or it reached the allowed address; never ::1.
    const before = v6.totalHits();
    const outcome = await fetcher.fetch(`${v4.base}/redirect?to=${encodeURIComponent(`http://localhost:${v6.port}/files/cat.jpg`)}`).then(
      () => 'fetched',
      (error: { code?: string }) => error.code,
    );
    expect(['FETCH_ADDRESS_REFUSED', 'FETCH_FAILED']).toContain(outcome);
    expect(v6.totalHits()).toBe(before);
  });

  it('the allowed host itself is fetched', async () => {
    expect(await fetcher.fetch(`${v4.base}/files/cat.jpg`)).toEqual(image);
  });
});

describe('the allow-list (LABELQ_HTTP_ALLOWED_HOSTS)', () => {
  it('CIDR ranges, single addresses and host names let internal hosts through', async () => {
    const cases: [string[], string][] = [
      [['127.0.0.0/8'], `${v4.base}/files/cat.jpg`],
      [['::1'], `${v6.base}/files/cat.jpg`],
      [['localhost'], `http://localhost:${v4.port}/files/cat.jpg`],
      [['*.localhost', 'localhost'], `http://LOCALHOST:${v4.port}/files/cat.jpg`],
    ];
    for (const [allowedHosts, url] of cases) {
      const fetcher = createHttpFetcher({ ...limits, allowedHosts });
      try {
        const got = await fetcher.fetch(url).catch((error: { code?: string; message?: string }) => `${error.code}: ${error.message}`);
        // localhost on a host whose resolver prefers ::1 reaches the v4 port on ::1 and fails to connect.
        if (typeof got === 'string') expect(got, `${allowedHosts.join(',')} ${url}`).toMatch(/^FETCH_FAILED/);
        else expect(got).toEqual(image);
      } finally {
        fetcher.close();
      }
    }
  });

  it('an allowed range does not open other ranges', async () => {
    const fetcher = createHttpFetcher({ ...limits, allowedHosts: ['10.0.0.0/8'] });
    expect((await failure(fetcher.fetch(`${v4.base}/files/cat.jpg`))).code).toBe('FETCH_ADDRESS_REFUSED');
    expect(createAddressPolicy(['10.0.0.0/8']).refusalOf('10.200.3.4')).toBeUndefined();
    expect(createAddressPolicy(['10.0.0.0/8']).refusalOf('192.168.0.1')).toBe('192.168.0.1 is in 192.168.0.0/16, a private range');
    fetcher.close();
  });

  it('is read from the environment as a comma-separated list; malformed entries stop the worker with CONFIG_INVALID', () => {
    const config = loadConfig({}, { LABELQ_HTTP_ALLOWED_HOSTS: ' 10.0.0.0/8, images.internal ,,*.corp.example,fd00::/8' });
    expect(config.httpAllowedHosts).toEqual(['10.0.0.0/8', 'images.internal', '*.corp.example', 'fd00::/8']);
    expect(loadConfig({}, {}).httpAllowedHosts).toEqual([]);
    expect(allowEntryProblem('10.0.0.0/33')).toMatch(/prefix length over 32/);
    expect(allowEntryProblem('http://x')).toMatch(/neither an IP address/);
    expect(() => createHttpFetcher({ ...limits, allowedHosts: ['10.0.0.0/8', 'not a host'] })).toThrow(/LABELQ_HTTP_ALLOWED_HOSTS is not valid: "not a host"/);
  });
});
