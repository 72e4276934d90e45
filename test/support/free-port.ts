import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * A loopback TCP port that was free a moment ago: for a server a test starts (Redis, HTTP) or, left unused, for
 * a port nobody listens on (connections are refused).
 */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('the test server has no TCP port');
  return address.port;
}
