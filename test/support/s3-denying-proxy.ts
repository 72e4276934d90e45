import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of the real S3 test server that answers S3's own `AccessDenied` error (403, S3 XML)
 * for GETs of keys containing `deniedMarker`, and forwards everything else unchanged (headers included, so
 * SigV4 signatures still verify). It stands in for an IAM or bucket policy, which the Swift test server lacks.
 */
export interface S3DenyingProxy {
  endpoint: string;
  /** Requests answered AccessDenied so far. */
  denied(): number;
  close(): Promise<void>;
}

export async function startS3DenyingProxy(upstreamEndpoint: string, deniedMarker: string): Promise<S3DenyingProxy> {
  const upstream = new URL(upstreamEndpoint);
  let deniedCount = 0;
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    if (req.method === 'GET' && decodeURIComponent(path).includes(deniedMarker)) {
      deniedCount++;
      const body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message>' +
        `<Resource>${path.replace(/[<>&]/g, '')}</Resource><RequestId>proxy</RequestId></Error>`;
      res.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) }).end(body);
      return;
    }
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    denied: () => deniedCount,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
