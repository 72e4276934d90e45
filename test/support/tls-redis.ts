import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freeLoopbackPort } from './free-port.ts';

/**
 * A private redis-server that only speaks TLS (`--port 0 --tls-port P`) and requires a password, with a private
 * CA and a server certificate for 127.0.0.1 and localhost made with openssl at start. For tests only.
 */
export interface TlsRedis {
  /** rediss://:password@127.0.0.1:port */
  url: string;
  port: number;
  /** PEM file of the private CA that signed the server certificate. */
  caFile: string;
  stop(): Promise<void>;
}

/** Undefined when redis-server and openssl can run a TLS server here; otherwise why not. */
export function tlsRedisUnavailable(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
  } catch {
    return 'openssl is not installed';
  }
  try {
    const help = execFileSync('redis-server', ['--version'], { stdio: 'pipe' }).toString();
    if (!/v=(\d+)/.test(help) || Number(/v=(\d+)/.exec(help)?.[1]) < 6) return 'redis-server is older than 6 (no TLS)';
  } catch {
    return 'redis-server is not installed';
  }
  return undefined;
}

function makeCertificates(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const certFile = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  const run = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', '/CN=labelq test CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', '/CN=127.0.0.1']);
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', ext]);
  return { caFile, certFile, keyFile };
}


export async function startTlsRedis(password: string): Promise<TlsRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'labelq-tls-redis-'));
  const { caFile, certFile, keyFile } = makeCertificates(dir);
  const port = await freeLoopbackPort();
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1',
      '--tls-cert-file', certFile, '--tls-key-file', keyFile, '--tls-ca-cert-file', caFile, '--tls-auth-clients', 'no',
      '--requirepass', password, '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', join(dir, 'redis.log'),
      '--maxmemory-policy', 'noeviction',
    ],
    { stdio: 'ignore' },
  );
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `rediss://:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      const log = readFileSync(join(dir, 'redis.log'), 'utf8').slice(-1000);
      await stop();
      throw new Error(`redis-server with TLS exited at start: ${log}`);
    }
    const probe = new Redis(url, { tls: { ca: readFileSync(caFile) }, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') break;
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`redis-server with TLS did not answer within 10 s: ${(error as Error).message}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      probe.disconnect();
    }
  }
  return { url, port, caFile, stop };
}
