import { Command } from 'commander';
import { registerProducerCommands } from '@labelq/producer/cli/producer-commands';
import { exitQuietlyWhenStdoutCloses, runCli } from '@labelq/producer/cli/main';
import type { CliContext } from '@labelq/producer/cli/cli-context';
import { registerModelCommands } from './model-commands.ts';
import { registerWorkerCommand } from './worker-command.ts';
import { registerLabelCommand } from './label-command.ts';
import { registerDashboardCommand } from './dashboard-command.ts';
import { registerScheduleCommands } from '@labelq/producer/cli/schedule-commands';
import { modelCardPathOf } from '../default-model.ts';

/** The full `labelq` program: the producer's commands plus worker, label and model. */
export function buildLabelqProgram(context: CliContext): Command {
  const program = new Command('labelq')
    .description('Label images at scale with ResNet50: a BullMQ job queue, GPU/CPU workers, records in S3 or a folder.')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
    });
  registerLabelCommand(program);
  registerWorkerCommand(program);
  registerProducerCommands(program, context);
  registerScheduleCommands(program, context, { defaultModelCardPath: modelCardPathOf });
  registerModelCommands(program);
  registerDashboardCommand(program, context);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  exitQuietlyWhenStdoutCloses();
  process.exitCode = await runCli(argv, buildLabelqProgram);
}
