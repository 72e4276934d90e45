// The command-line reference, generated from the commander program itself (worker/src/cli/main.ts).
//   node_modules/.bin/node infra/cli-reference.ts           prints docs/cli.md to standard output
//   node_modules/.bin/node infra/cli-reference.ts --write   rewrites every generated doc: docs/cli.md,
//                                                           docs/configuration.md and README.md's generated blocks
// test/docs-generated.test.ts keeps the files equal to what this prints, so a new command or setting fails the
// suite until the docs are regenerated.
import { readFileSync, writeFileSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';
import type { Command } from 'commander';
import { CliContext } from '@labelq/producer/cli/cli-context';
import { buildLabelqProgram } from '@labelq/worker/cli/main';
import { configurationMarkdown } from './config-table.ts';

/** Help is wrapped at this width whatever the terminal, so the generated text is the same everywhere. */
const helpWidthChars = 100;

export const generatedDocPaths = {
  cli: 'docs/cli.md',
  configuration: 'docs/configuration.md',
  readme: 'README.md',
} as const;

/** The `labelq` program as the CLI builds it; nothing is opened until a command runs. */
function labelqProgram(): Command {
  return buildLabelqProgram(new CliContext());
}

/** Every command of `labelq` (`['model', 'fetch']` for `labelq model fetch`), depth first, in registration order. */
export function labelqCommands(): { path: string[]; command: Command }[] {
  return commandsUnder(labelqProgram());
}

/**
 * Checks a labelq command line as a container runs it (`['dashboard', '--port', '3000']`): undefined when the
 * command exists and has every `--flag` given, otherwise a sentence naming what is unknown.
 */
export function problemWithCommandLine(args: readonly string[]): string | undefined {
  const commands = labelqCommands();
  let found: { path: string[]; command: Command } | undefined;
  for (const candidate of commands) {
    const matches = candidate.path.every((word, index) => args[index] === word);
    if (matches && candidate.path.length > (found?.path.length ?? 0)) found = candidate;
  }
  if (found === undefined) return `labelq has no command "${args[0] ?? ''}" (commands: ${commands.map(({ path }) => path.join(' ')).join(', ')}).`;
  const known = new Set(found.command.options.flatMap((option) => [option.long, option.short]).filter((flag) => flag !== undefined));
  const unknown = args.filter((arg) => arg.startsWith('-')).map((arg) => arg.split('=')[0]!).filter((flag) => !known.has(flag));
  return unknown.length === 0 ? undefined : `labelq ${found.path.join(' ')} has no option ${unknown.join(', ')}.`;
}

/** Every command below `program`, depth first, in the order they were registered. */
function commandsUnder(command: Command, path: string[] = []): { path: string[]; command: Command }[] {
  return command.commands.flatMap((sub) => {
    const subPath = [...path, sub.name()];
    return [{ path: subPath, command: sub }, ...commandsUnder(sub, subPath)];
  });
}

function helpText(command: Command): string {
  command.configureHelp({ helpWidth: helpWidthChars });
  return stripVTControlCharacters(command.helpInformation()).trimEnd();
}

/** The anchor GitHub gives the heading `## labelq <path>`. */
function anchorOf(path: string[]): string {
  return ['labelq', ...path].join('-');
}

/** docs/cli.md: the program's help, then every command's help, as Markdown. */
export function cliReferenceMarkdown(): string {
  const program = labelqProgram();
  const commands = commandsUnder(program);
  const sections = commands.map(({ path, command }) =>
    [`## labelq ${path.join(' ')}`, '', '```text', helpText(command), '```', ''].join('\n'),
  );
  return [
    '# labelq command-line reference',
    '',
    'Generated from the commander program (`worker/src/cli/main.ts`, `buildLabelqProgram`) by',
    '`node_modules/.bin/node infra/cli-reference.ts --write`; a test keeps this file equal to the program.',
    'Every flag overrides its environment variable ([configuration.md](configuration.md)).',
    '',
    '| command | what it does |',
    '|---|---|',
    ...commands.map(({ path, command }) => `| [\`labelq ${path.join(' ')}\`](#${anchorOf(path)}) | ${escapeCell(command.description())} |`),
    '',
    '## labelq',
    '',
    '```text',
    helpText(program),
    '```',
    '',
    ...sections,
  ].join('\n');
}

/** README.md's command table: the top-level commands and what they do, linking docs/cli.md. */
export function readmeCommandTable(): string {
  const commands = labelqCommands();
  return [
    '| command | what it does |',
    '|---|---|',
    ...commands.map(({ path, command }) => `| [\`labelq ${path.join(' ')}\`](docs/cli.md#${anchorOf(path)}) | ${escapeCell(command.description())} |`),
  ].join('\n');
}

/** README.md's configuration table: the rows of docs/configuration.md. */
export function readmeConfigurationTable(): string {
  return configurationMarkdown()
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .join('\n');
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** The blocks of README.md between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`. */
export const readmeBlocks: Record<string, () => string> = {
  commands: readmeCommandTable,
  configuration: readmeConfigurationTable,
};

/** README.md with every generated block replaced by its current text; throws when a marker is missing. */
export function withGeneratedBlocks(readme: string): string {
  let text = readme;
  for (const [name, generate] of Object.entries(readmeBlocks)) {
    const start = `<!-- generated:${name} -->`;
    const end = `<!-- /generated:${name} -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from) {
      throw new Error(`README.md has no block ${start} … ${end}: put the two markers where the ${name} table belongs.`);
    }
    text = `${text.slice(0, from + start.length)}\n${generate()}\n${text.slice(to)}`;
  }
  return text;
}

function writeAll(root: URL): void {
  const write = (relative: string, text: string): void => {
    writeFileSync(new URL(relative, root), text);
    process.stderr.write(`wrote ${relative}\n`);
  };
  write(generatedDocPaths.cli, cliReferenceMarkdown());
  write(generatedDocPaths.configuration, configurationMarkdown());
  write(generatedDocPaths.readme, withGeneratedBlocks(readFileSync(new URL(generatedDocPaths.readme, root), 'utf8')));
}

if (import.meta.main) {
  if (process.argv.includes('--write')) writeAll(new URL('../', import.meta.url));
  else process.stdout.write(cliReferenceMarkdown());
}
