import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * README.md keeps its promises: the two-command quick start runs the scripts it describes, it links every page
 * of docs/, and no relative link in README.md, docs/operations.md, docs/cli.md or infra/k8s/README.md is broken.
 */
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const read = (relative: string): string => readFileSync(path.join(repoRoot, relative), 'utf8');
const readme = read('README.md');
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

/** Relative link targets of a Markdown page (anchors and URLs with a scheme left out). */
function relativeLinks(page: string): string[] {
  return [...read(page).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((match) => match[1]!).filter((link) => !/^[a-z][a-z0-9+.-]*:/.test(link));
}

describe('README.md', () => {
  it('quick start: `npm run demo` and `npm test`, which run infra/demo.sh and infra/test.sh', () => {
    const quickStart = /## Quick start[^\n]*\n+```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = quickStart.split('\n').map((line) => line.replace(/#.*/, '').trim()).filter((line) => line !== '');
    expect(commands).toEqual(['npm run demo', 'npm test']);
    expect(scripts['demo']).toBe('bash infra/demo.sh');
    expect(scripts['test']).toBe('bash infra/test.sh');
    const demo = read('infra/demo.sh');
    expect(demo).toContain('bash infra/setup.sh');
    // What the README says the demo labels, and where it writes.
    expect(demo).toContain('../shared/data/imagenet-sample');
    expect(readme).toContain('labelq label ../shared/data/imagenet-sample --out ./labelq-out');
    expect(demo).toContain('--out ./labelq-out');
    expect(demo).toContain('LABELQ_DEMO_SOURCE');
    expect(read('infra/test.sh')).toMatch(/eslint[\s\S]*tsc --noEmit[\s\S]*vitest run/);
  });

  it('links every page of docs/', () => {
    const linked = new Set(relativeLinks('README.md').map((link) => path.normalize(link)));
    const pages = readdirSync(path.join(repoRoot, 'docs')).filter((file) => file.endsWith('.md'));
    expect(pages.filter((page) => !linked.has(`docs/${page}`))).toEqual([]);
  });

  it('says what runs where: a flow diagram, the deployment files, the layout', () => {
    expect(readme).toMatch(/```\n[^`]*labelq enqueue[^`]*Redis[^`]*labelq worker[^`]*store[^`]*```/);
    for (const named of ['docker-compose.yml', 'infra/docker/', 'infra/k8s/', 'docs/operations.md']) expect(readme).toContain(named);
  });
});

describe.each(['README.md', 'docs/operations.md', 'docs/cli.md', 'infra/k8s/README.md'])('links of %s', (page) => {
  it('all point at files that exist', () => {
    const missing = relativeLinks(page).filter((link) => !existsSync(path.join(repoRoot, path.dirname(page), link)));
    expect(missing).toEqual([]);
  });
});
