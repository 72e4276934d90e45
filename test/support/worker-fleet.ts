import { startLabelq, type Finished, type RunningLabelq } from './labelq-process.ts';

/**
 * A set of `labelq worker` child processes on one environment: start some, SIGKILL a random one, SIGTERM
 * the rest. Every process it started is remembered, so stopAll() leaves none behind.
 */
export class WorkerFleet {
  readonly env: NodeJS.ProcessEnv;
  readonly all: RunningLabelq[] = [];
  private readonly args: string[];

  constructor(env: NodeJS.ProcessEnv, args: string[] = []) {
    this.env = env;
    this.args = args;
  }

  start(count = 1): RunningLabelq[] {
    const started = Array.from({ length: count }, () => startLabelq(['worker', ...this.args], this.env));
    this.all.push(...started);
    return started;
  }

  /** The workers still running. */
  running(): RunningLabelq[] {
    return this.all.filter((worker) => worker.child.exitCode === null && worker.child.signalCode === null);
  }

  /** Workers that exited on their own (not by a signal this fleet sent), with their output. */
  unexpectedExits(): string[] {
    return this.all
      .filter((worker) => worker.child.exitCode !== null && !killed.has(worker))
      .map((worker) => `worker pid ${worker.child.pid} exited with code ${worker.child.exitCode}:\n${worker.output().slice(-2000)}`);
  }

  /** SIGKILL of one running worker chosen at random; resolves when it is gone. */
  async killRandom(): Promise<RunningLabelq | undefined> {
    const candidates = this.running();
    const victim = candidates[Math.floor(Math.random() * candidates.length)];
    if (victim === undefined) return undefined;
    killed.add(victim);
    await victim.stop('SIGKILL');
    return victim;
  }

  async stop(worker: RunningLabelq, signal: NodeJS.Signals = 'SIGTERM'): Promise<Finished> {
    killed.add(worker);
    return worker.stop(signal);
  }

  async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<Finished[]> {
    return Promise.all(this.all.map((worker) => this.stop(worker, signal)));
  }
}

const killed = new WeakSet<RunningLabelq>();
