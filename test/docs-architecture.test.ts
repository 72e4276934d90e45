import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * docs/architecture.md names the real files: every path in backticks is a project file (from the root, or the
 * end of one's path, as `preprocess/normaliser.ts` under worker/src), and every bare file name (`batcher.ts`) is
 * the name of a file somewhere in the project. A file renamed or moved without the page
 * changing fails here.
 */
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const skippedDirs = new Set(['node_modules', '.git', 'models', '.cache', '.tools', 'labelq-out', '.test-artifacts', 'coverage']);

function projectFiles(dir: string, found: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skippedDirs.has(entry.name) || entry.name.startsWith('.gl') || entry.name.startsWith('.whl') || entry.name.startsWith('.gpu')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) projectFiles(full, found);
    else found.push(path.relative(repoRoot, full));
  }
  return found;
}

const files = projectFiles(repoRoot);
const baseNames = new Set(files.map((file) => path.basename(file)));

/** `shared/src/uri.ts`, `batcher.ts`, `worker/bin/labelq.js` … in backticks (file names with a known extension). */
function namedFiles(page: string): string[] {
  const names = [...page.matchAll(/`([\w@./-]+\.(?:ts|js|json|sh|py|md|yaml|yml))`/g)].map((match) => match[1]!);
  // Placeholders of the record layout (`<chunk>.jsonl`) and examples of user files are not project files.
  return [...new Set(names)].filter((name) => !name.includes('<') && !/^(card|file|labels)\./.test(name));
}

describe.each(['docs/architecture.md'])('%s', (page) => {
  const text = readFileSync(path.join(repoRoot, page), 'utf8');

  it('names only files that exist', () => {
    const exists = (name: string): boolean => {
      if (name.startsWith('../')) return existsSync(path.join(repoRoot, name)); // beside the project (../shared)
      return name.includes('/') ? files.some((file) => file === name || file.endsWith(`/${name}`)) : baseNames.has(name);
    };
    const missing = namedFiles(text).filter((name) => !exists(name));
    expect(missing).toEqual([]);
  });

  it('links only pages that exist', () => {
    const links = [...text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((match) => match[1]!).filter((link) => !/^[a-z]+:/.test(link));
    const missing = links.filter((link) => !existsSync(path.join(repoRoot, path.dirname(page), link)));
    expect(missing).toEqual([]);
  });
});
