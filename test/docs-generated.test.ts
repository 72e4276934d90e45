import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliReferenceMarkdown, generatedDocPaths, withGeneratedBlocks } from '../infra/cli-reference.ts';

/**
 * The generated documentation equals what the code says now: docs/cli.md is the commander program's help, and
 * README.md's command and configuration tables are those of the program and of shared/src/config.ts
 * (docs/configuration.md itself is checked by shared/src/config.test.ts). When one fails, regenerate:
 *   node_modules/.bin/node infra/cli-reference.ts --write
 */
function read(relative: string): string {
  return readFileSync(new URL(`../${relative}`, import.meta.url), 'utf8');
}

const regenerate = 'out of date: run node_modules/.bin/node infra/cli-reference.ts --write';

describe('generated documentation', () => {
  it('docs/cli.md is the help of every labelq command', () => {
    expect(read(generatedDocPaths.cli), `docs/cli.md is ${regenerate}`).toBe(cliReferenceMarkdown());
  });

  it("README.md's command and configuration tables are the program's and config.ts's", () => {
    const readme = read(generatedDocPaths.readme);
    expect(readme, `README.md is ${regenerate}`).toBe(withGeneratedBlocks(readme));
  });

  it('docs/cli.md covers every command, flag and subcommand of the program', () => {
    const page = read(generatedDocPaths.cli);
    for (const command of ['label', 'worker', 'enqueue', 'status', 'results', 'runs', 'model fetch', 'model inspect', 'model random']) {
      expect(page).toContain(`## labelq ${command}\n`);
    }
    expect(page).toContain('--metrics-port <port>');
  });
});
