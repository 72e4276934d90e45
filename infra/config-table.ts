// Prints the configuration table (every setting, its environment variable, default and meaning) as Markdown.
// `node infra/config-table.ts > docs/configuration.md` regenerates the doc; a test keeps the two equal.
import { settings } from '@labelq/shared/config';

export function configurationMarkdown(): string {
  const rows = Object.entries(settings).map(([key, setting]) => {
    const fallback = 'default' in setting ? `\`${setting.default}\`` : '(unset)';
    return `| \`${setting.env}\` | ${key} | ${fallback} | ${setting.description.replaceAll('|', '\\|')} |`;
  });
  return [
    '# Configuration',
    '',
    'Every setting is read from the environment in one place (`shared/src/config.ts`, validated with zod); command-line',
    'flags override them. A bad value stops the process with a sentence naming the variable. Units are in the names',
    '(`_MS` milliseconds, `_BYTES` bytes).',
    '',
    '| variable | setting | default | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (import.meta.main) process.stdout.write(configurationMarkdown());
