import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server for fetch tests, listening on `host` (127.0.0.1 by default; '::1' for IPv6 loopback):
 *   /files/<name>      the bytes registered under <name> (200), else 404
 *   /status/<code>     answers that status with a short body (404, 403, 500, …)
 *   /never             accepts the request and never answers
 *   /redirect?to=<url> 302 to <url>
 * `hits` counts requests per path, so a test can prove a refused address was never contacted.
 */
export interface ImageHttpServer {
  /** http://host:port (IPv6 hosts in brackets). */
  base: string;
  port: number;
  hits: Map<string, number>;
  totalHits(): number;
  close(): Promise<void>;
}

export async function startImageHttpServer(files: ReadonlyMap<string, Buffer> = new Map(), host = '127.0.0.1'): Promise<ImageHttpServer> {
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://server');
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    const file = /^\/files\/(.+)$/.exec(url.pathname)?.[1];
    const status = /^\/status\/(\d{3})$/.exec(url.pathname)?.[1];
    if (file !== undefined) {
      const bytes = files.get(decodeURIComponent(file));
      if (bytes === undefined) res.writeHead(404).end('no such file');
      else res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
    } else if (status !== undefined) {
      res.writeHead(Number(status)).end(`status ${status}`);
    } else if (url.pathname === '/never') {
      // holds the request open until the server closes
    } else if (url.pathname === '/redirect') {
      res.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
    } else {
      res.writeHead(404).end('unknown route');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    hits,
    totalHits: () => [...hits.values()].reduce((a, b) => a + b, 0),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
