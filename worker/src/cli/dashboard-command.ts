import type { Command } from 'commander';
import type { CliContext } from '@labelq/producer/cli/cli-context';
import { startDashboard } from '@labelq/dashboard/dashboard-server';
import { onShutdownSignal } from './shutdown.ts';

/** Time allowed to close the web server and the connections on SIGTERM, in ms. */
const dashboardShutdownMs = 10_000;

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** `labelq dashboard`: the runs view, bull-board's queue views and the queue's /metrics, until SIGTERM/SIGINT. */
export function registerDashboardCommand(program: Command, context: CliContext): void {
  program
    .command('dashboard')
    .description(
      "Serve the dashboard: runs (progress, throughput, failures, predictions with thumbnails), the queue (bull-board) and the queue's /metrics. It has no authentication.",
    )
    .option('--host <address>', 'address to bind (LABELQ_DASHBOARD_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port (LABELQ_DASHBOARD_PORT, default 8080; 0 = a free one)')
    .action(async (flags: { host?: string; port?: string }) => {
      context.setOverrides({ dashboardHost: flags.host, dashboardPort: flags.port });
      const config = context.config();
      const log = context.logger();
      const registry = await context.readyRegistry();
      const dashboard = await startDashboard(
        {
          registry,
          queue: context.queue(),
          storeFor: (out) => context.store(out),
          s3: () => context.s3(),
          maxImageBytes: config.dashboardMaxImageBytes,
          queueActions: config.dashboardQueueActions,
          log,
        },
        { host: config.dashboardHost, port: config.dashboardPort },
      );
      context.stdout.write(`labelq dashboard on ${dashboard.url} (queue ${config.queueName})\n`);
      if (!isLoopback(config.dashboardHost)) {
        log.warn({ host: config.dashboardHost }, 'the dashboard has no authentication and listens beyond this machine: put it behind a proxy that authenticates');
      }
      await new Promise<void>(() => {
        onShutdownSignal(log, dashboardShutdownMs, async () => {
          await dashboard.close();
          await context.close();
        });
      });
    });
}
