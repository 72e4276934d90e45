import { Command, CommanderError } from 'commander';
import { isLabelqError } from '@labelq/shared/errors';
import { registerProducerCommands } from '@labelq/producer/cli/producer-commands';
import { CliContext } from '@labelq/producer/cli/cli-context';
import { registerModelCommands } from './model-commands.ts';
import { registerWorkerCommand } from './worker-command.ts';
import { registerLabelCommand } from './label-command.ts';

/** The `labelq` command: producer, worker, model and end-to-end commands. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('labelq')
    .description('Label images at scale with ResNet50: a BullMQ job queue, GPU/CPU workers, records in S3 or a folder.')
    .showHelpAfterError()
    .exitOverride();
  const context = new CliContext();
  registerLabelCommand(program);
  registerWorkerCommand(program);
  registerProducerCommands(program, context);
  registerModelCommands(program);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
    } else if (isLabelqError(error)) {
      process.stderr.write(`labelq: ${error.code}: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`labelq: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  } finally {
    await context.close();
  }
}
