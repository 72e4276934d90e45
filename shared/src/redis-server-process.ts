import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LabelqError } from './errors.ts';

/**
 * A private redis-server (Debian's binary) on 127.0.0.1, owned by this process: for `labelq label` when
 * REDIS_URL is unset, and for tests. Not a production deployment: no persistence unless `appendOnly`.
 */
export interface RedisServerOptions {
  /** Port on 127.0.0.1; unset or 0 = a free one (found by binding port 0). */
  port?: number;
  /** Working dir (AOF files, log). Unset = a fresh temp dir, removed by stop(). */
  dataDir?: string;
  /** Append-only file: data survives stop/restart, and a killed process up to the fsync policy. Default false. */
  appendOnly?: boolean;
  /**
   * With appendOnly, when the AOF is fsynced: 'everysec' (Redis' default: a SIGKILL or power loss may lose
   * the last second of writes; a SIGTERM loses nothing), 'always' (every write, slower), 'no' (the OS decides).
   */
  appendFsync?: 'always' | 'everysec' | 'no';
  /** requirepass; it goes into `url`, never into logs or messages. */
  password?: string;
  /** Path or name (looked up on PATH) of the redis-server program. Default 'redis-server'. */
  binary?: string;
  /** Longest wait for the first PING answer, in ms. Default 10 000. */
  readyTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface RedisServerProcess {
  /** redis://[:password@]127.0.0.1:port — contains the password when one is set: do not log it. */
  readonly url: string;
  readonly port: number;
  /** Pid of the running server; changes on restart(). */
  readonly pid: number;
  readonly dataDir: string;
  /** SIGTERM (graceful: the AOF is flushed), SIGKILL after 5 s; removes dataDir if it was a temp dir made here. */
  stop(): Promise<void>;
  /**
   * Stops (SIGTERM: the AOF is flushed) and starts again on the same port and data dir, after `downForMs`
   * (default 0) with nothing listening: clients see refused connections meanwhile. With appendOnly the data is
   * still there. After kill(), it starts the server again (after downForMs).
   */
  restart(downForMs?: number): Promise<void>;
  /** SIGKILL, no shutdown work: a crash, for fault tests. restart() brings it back. */
  kill(): Promise<void>;
}

const defaultReadyTimeoutMs = 10_000;
const stopTimeoutMs = 5_000;

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerProcess> {
  const log = options.log ?? (() => {});
  const binary = options.binary ?? 'redis-server';
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = ownsDataDir ? await mkdtemp(join(tmpdir(), 'labelq-redis-')) : resolve(options.dataDir as string);
  await mkdir(dataDir, { recursive: true });
  const portWasChosen = options.port !== undefined && options.port !== 0;

  let child: ChildProcess | undefined;
  let port = options.port ?? 0;

  const launch = async (): Promise<void> => {
    // A free port can be taken between our probe and redis' bind: retry with another when we chose it.
    for (let attempt = 1; ; attempt++) {
      if (!portWasChosen && (attempt > 1 || port === 0)) port = await findFreePort();
      try {
        child = await spawnAndWait(binary, port, dataDir, options);
        return;
      } catch (error) {
        const portTaken = error instanceof Error && /Address already in use/i.test(error.message);
        if (!portTaken || portWasChosen || attempt >= 3) throw error;
      }
    }
  };

  const startedAt = performance.now();
  try {
    await launch();
  } catch (error) {
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  log(`redis-server ready on 127.0.0.1:${port} (pid ${child?.pid}) in ${Math.round(performance.now() - startedAt)} ms`);

  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (running !== undefined) await stopChild(running, signal);
  };

  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid ?? -1;
    },
    dataDir,
    async stop() {
      await terminate('SIGTERM');
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      log(`redis-server on 127.0.0.1:${port} stopped`);
    },
    async kill() {
      await terminate('SIGKILL');
      log(`redis-server on 127.0.0.1:${port} killed`);
    },
    async restart(downForMs = 0) {
      await terminate('SIGTERM');
      if (downForMs > 0) await new Promise((done) => setTimeout(done, downForMs));
      child = await spawnAndWait(binary, port, dataDir, options);
      log(`redis-server restarted on 127.0.0.1:${port} (pid ${child.pid})`);
    },
  };
}

function serverArguments(port: number, dataDir: string, options: RedisServerOptions): string[] {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dataDir,
    '--logfile', join(dataDir, 'redis.log'),
    '--daemonize', 'no',
    '--maxmemory-policy', 'noeviction',
    '--save', '',
  ];
  args.push('--appendonly', options.appendOnly === true ? 'yes' : 'no');
  if (options.appendOnly === true && options.appendFsync !== undefined) args.push('--appendfsync', options.appendFsync);
  if (options.password !== undefined) args.push('--requirepass', options.password);
  return args;
}

async function spawnAndWait(binary: string, port: number, dataDir: string, options: RedisServerOptions): Promise<ChildProcess> {
  const child = spawn(binary, serverArguments(port, dataDir, options), { stdio: 'ignore' });
  const spawned = await new Promise<NodeJS.ErrnoException | null>((done) => {
    child.once('spawn', () => done(null));
    child.once('error', (error: NodeJS.ErrnoException) => done(error));
  });
  if (spawned !== null) {
    if (spawned.code === 'ENOENT') {
      throw new LabelqError(
        'REDIS_SERVER_MISSING',
        `redis-server is not installed: run \`sudo apt-get install -y redis-server\` or set REDIS_URL (looked for "${binary}").`,
        { cause: spawned },
      );
    }
    throw new LabelqError('REDIS_SERVER_MISSING', `redis-server ("${binary}") could not be started: ${spawned.message}.`, { cause: spawned });
  }

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.once('exit', (code, signal) => {
    exited = { code, signal };
  });
  const deadline = performance.now() + (options.readyTimeoutMs ?? defaultReadyTimeoutMs);
  while (exited === undefined && performance.now() < deadline) {
    // The pid check matters: another server may already hold the port, and this one is then about to exit.
    if ((await answeringServerPid(port, options.password)) === child.pid) return child;
    await new Promise((done) => setTimeout(done, 20));
  }
  const logTail = await readLogTail(join(dataDir, 'redis.log'));
  if (exited === undefined) await stopChild(child, 'SIGKILL');
  const why = exited === undefined
    ? `did not answer PING within ${options.readyTimeoutMs ?? defaultReadyTimeoutMs} ms`
    : `exited (code ${exited.code}, signal ${exited.signal}) before answering PING`;
  throw new Error(`redis-server on 127.0.0.1:${port} ${why}. Last lines of ${join(dataDir, 'redis.log')}:\n${logTail}`);
}

/** Pid of the redis-server answering on the port (INFO server over a raw RESP socket; AUTH first when a
 * password is set), or undefined when nothing answers yet. */
function answeringServerPid(port: number, password: string | undefined): Promise<number | undefined> {
  return new Promise((done) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let received = '';
    const finish = (pid: number | undefined): void => {
      socket.destroy();
      done(pid);
    };
    socket.setTimeout(1_000, () => finish(undefined));
    socket.once('error', () => finish(undefined));
    socket.once('connect', () => {
      const commands = password === undefined ? [['INFO', 'server']] : [['AUTH', password], ['INFO', 'server']];
      socket.write(commands.map(encodeCommand).join(''));
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      const pid = /\r\nprocess_id:(\d+)\r\n/.exec(received)?.[1];
      if (pid !== undefined) finish(Number(pid));
      else if (received.startsWith('-') || received.includes('\r\n-')) finish(undefined);
    });
  });
}

function encodeCommand(parts: string[]): string {
  return `*${parts.length}\r\n${parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join('')}`;
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

async function findFreePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not read the port of a probe socket');
  return address.port;
}

async function readLogTail(path: string, lines = 10): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log written)';
  }
}
