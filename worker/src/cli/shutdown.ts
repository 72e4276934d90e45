import type { Logger } from '@labelq/shared/logger';

/**
 * Closes `close` on the first SIGTERM/SIGINT; a second signal, or the deadline, forces the exit.
 * Resources are released by `close` in reverse order of their creation.
 */
export function onShutdownSignal(log: Logger, deadlineMs: number, close: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    log.info({ signal, deadlineMs }, 'shutting down: no new jobs; finishing or handing back the ones in flight');
    setTimeout(() => {
      log.error({ deadlineMs }, 'shutdown took too long: exiting');
      process.exit(1);
    }, deadlineMs).unref();
    close(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ error: String(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
