import { spawn } from 'node:child_process';

/**
 * A detached bash loop that runs `cleanup` (argv) once `ownerPid` is gone. It covers what exit handlers
 * cannot: the test runner killed by SIGKILL or dying on a signal it does not handle. stop() dismisses it.
 */
export interface OrphanWatchdog {
  stop(): void;
}

const watchdogScript = `
owner="$1"; shift
alive() { local stat; stat="$(cat /proc/"$1"/stat 2>/dev/null)" && [[ "\${stat##*) }" != Z* ]]; }
trap 'exit 0' TERM
while alive "$owner"; do sleep 1; done
exec "$@"
`;

export function startOrphanWatchdog(ownerPid: number, cleanup: string[]): OrphanWatchdog {
  const child = spawn('bash', ['-c', watchdogScript, 'labelq-orphan-watchdog', String(ownerPid), ...cleanup], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return {
    stop() {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    },
  };
}
