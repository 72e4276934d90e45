import { Command, CommanderError } from 'commander';
import { isLabelqError } from '@labelq/shared/errors';
import { CliContext, type CliContextOptions } from './cli-context.ts';
import { registerProducerCommands } from './producer-commands.ts';

/** The producer's program: enqueue, status, results, runs. Commander errors throw instead of exiting. */
export function buildProducerProgram(context: CliContext): Command {
  const program = new Command('labelq-producer')
    .description('Enqueue images for labelling and read the results (labelq producer).')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
    });
  registerProducerCommands(program, context);
  return program;
}

/**
 * Runs one command line (`argv` as in process.argv) and returns the exit status: 0 on success; 1 with the
 * stable code and the message on standard error for a LabelqError (no stack trace), and with the stack for
 * anything else.
 * Everything the command opened is closed before it returns.
 */
export async function runCli(
  argv: readonly string[],
  build: (context: CliContext) => Command = buildProducerProgram,
  options: CliContextOptions = {},
): Promise<number> {
  const context = new CliContext(options);
  try {
    await build(context).parseAsync(argv as string[]);
    return 0;
  } catch (error) {
    return reportError(context, error);
  } finally {
    await context.close();
  }
}

function reportError(context: CliContext, error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has printed its own message (or the help); help and --version end with status 0.
    return error.exitCode;
  }
  if (isLabelqError(error)) {
    context.stderr.write(`labelq: ${error.code}: ${error.message}\n`);
    return 1;
  }
  context.stderr.write(`labelq: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}

/** The process entry: `labelq-producer <command> …`. */
export async function main(): Promise<void> {
  exitQuietlyWhenStdoutCloses();
  process.exitCode = await runCli(process.argv);
}

/** `labelq results … | head` closes the pipe early: that is not an error. */
export function exitQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
