import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { errorCodes, LabelqError } from '@labelq/shared/errors';
import { normaliseStoreUrl } from '@labelq/shared/store/open-store';
import { formatFailedReport, listFailed } from '../operator/failed.ts';
import { formatRetryResult, retryRun } from '../operator/retry.ts';
import { formatVerifyReport, verifyFailureSentence, verifyRun } from '../operator/verify.ts';
import type { CliContext } from './cli-context.ts';

/** Failed images `labelq failed` prints without --all. */
export const shownFailedItems = 50;

async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

/** The item error codes named by `--codes A,B` (CONFIG_INVALID for a code that is not an item error code). */
export function parseItemCodes(list: string): string[] {
  const codes = list.split(',').map((code) => code.trim()).filter((code) => code !== '');
  const itemCodes = Object.entries(errorCodes).filter(([, kind]) => kind === 'item').map(([code]) => code);
  const unknown = codes.filter((code) => !itemCodes.includes(code));
  if (unknown.length > 0 || codes.length === 0) {
    throw new LabelqError('CONFIG_INVALID', `--codes ${JSON.stringify(list)} must list item error codes separated by commas (${itemCodes.join(', ')}); not: ${unknown.join(', ') || '(none given)'}.`);
  }
  return codes;
}

/** Adds `failed`, `retry` and `verify` (docs/operator-commands.md) to a commander program. */
export function registerOperatorCommands(program: Command, context: CliContext): void {
  program
    .command('failed')
    .description("List a run's failed jobs (with their last reason) and failed images (error records, with code and message).")
    .argument('<run>', 'run id')
    .option('--json', 'print one JSON object: {run, jobs, items, itemCodes, unreadableObjects, storeProblem}')
    .option('--all', `list every failed image (default: the first ${shownFailedItems})`)
    .action(async (run: string, flags: { json?: boolean; all?: boolean }) => {
      const meta = await (await context.readyRegistry()).requireRun(run);
      await context.connectedRedis('queue');
      const report = await listFailed(context.queue(), context.store(meta.out), run);
      await write(context.stdout, flags.json === true ? `${JSON.stringify(report)}\n` : formatFailedReport(report, flags.all === true ? Infinity : shownFailedItems));
    });

  program
    .command('retry')
    .description('Re-enqueue what failed in a run, and only that: jobs in the failed set (attempts reset) and, with --items or --codes, the chunks whose records hold item errors.')
    .argument('<run>', 'run id')
    .option('--items', 'also run again every chunk whose records hold an item error (the chunk\'s record object is replaced)')
    .option('--codes <list>', 'like --items, only for errors with these codes, e.g. FETCH_TIMEOUT,FETCH_HTTP_ERROR')
    .action(async (run: string, flags: { items?: boolean; codes?: string }) => {
      const codes = flags.codes === undefined ? undefined : parseItemCodes(flags.codes);
      const registry = await context.readyRegistry();
      const meta = await registry.requireRun(run);
      await context.connectedRedis('queue');
      const result = await retryRun({
        queue: context.queue(),
        registry,
        store: context.store(meta.out),
        run,
        items: flags.items === true || codes !== undefined,
        ...(codes === undefined ? {} : { codes }),
      });
      await write(context.stdout, formatRetryResult(result));
    });

  program
    .command('verify')
    .description('Check that every enqueued URI of a run has exactly one record; name what is missing, duplicated, unexpected or unreadable (exit status 1 when anything is).')
    .argument('<run>', 'run id')
    .option('--json', 'print the report as one JSON object')
    .option('--out <dir|s3://bucket/prefix>', 'verify the run in this store from its enqueued manifest alone, without asking Redis')
    .action(async (run: string, flags: { json?: boolean; out?: string }) => {
      let report;
      if (flags.out !== undefined) {
        report = await verifyRun({ store: context.store(normaliseStoreUrl(flags.out, context.cwd)), run });
      } else {
        const registry = await context.readyRegistry();
        const meta = await registry.requireRun(run);
        await context.connectedRedis('queue');
        report = await verifyRun({ store: context.store(meta.out), run, redis: { queue: context.queue(), registry } });
      }
      await write(context.stdout, flags.json === true ? `${JSON.stringify(report)}\n` : formatVerifyReport(report));
      if (!report.ok) throw new LabelqError('VERIFY_FAILED', verifyFailureSentence(report));
    });
}
