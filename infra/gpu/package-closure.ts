/**
 * Copies the runtime dependency closure of a few packages from one node_modules to another, for the GPU
 * bundle (infra/gpu/make-bundle.sh): only what the GPU check imports, only linux-x64 native parts, no type
 * declarations, source maps or docs.
 *
 *   node infra/gpu/package-closure.ts --from node_modules --to DIR/node_modules onnxruntime-node sharp zod ...
 *
 * Resolution follows Node's: a dependency of the package in `dir` is looked for in `dir/node_modules`, then
 * in each enclosing node_modules. Optional dependencies that are not installed (other platforms) are skipped.
 */
import { cpSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

/** Dependencies a package lists but never loads at run time (install scripts, type packages). */
const skippedEdges: Record<string, readonly string[]> = {
  'onnxruntime-node': ['adm-zip', 'global-agent'],
};

/** For these packages only the listed paths are copied (everything else is other platforms or build tooling). */
const keptPaths: Record<string, readonly string[]> = {
  'onnxruntime-node': ['package.json', 'dist', 'bin/napi-v6/linux/x64'],
};

const droppedFile = /(\.d\.[cm]?ts|\.map|\.md|\.markdown|\.ts)$/i;
const droppedDir = new Set(['node_modules', 'test', 'tests', 'docs', 'doc', 'example', 'examples', '.github', 'bench']);

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function readPackage(dir: string): PackageJson {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** The directory Node would load `name` from when required by the package in `fromDir`. */
function resolvePackageDir(name: string, fromDir: string, rootModules: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.resolve(dir, 'node_modules') === path.resolve(rootModules)) return undefined;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function closure(roots: readonly string[], rootModules: string): Map<string, string> {
  const found = new Map<string, string>(); // package dir -> name
  const queue: { name: string; from: string; optional: boolean }[] = roots.map((name) => ({ name, from: path.dirname(rootModules), optional: false }));
  while (queue.length > 0) {
    const next = queue.shift();
    if (next === undefined) break;
    if (next.name.startsWith('@types/')) continue;
    const dir = resolvePackageDir(next.name, next.from, rootModules);
    if (dir === undefined) {
      if (next.optional) continue;
      throw new Error(`The package ${next.name} (needed from ${next.from}) is not installed under ${rootModules}.`);
    }
    if (found.has(dir)) continue;
    found.set(dir, next.name);
    const pkg = readPackage(dir);
    const skipped = skippedEdges[pkg.name] ?? [];
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      if (!skipped.includes(dep)) queue.push({ name: dep, from: dir, optional: false });
    }
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) queue.push({ name: dep, from: dir, optional: true });
  }
  return found;
}

function copyPackage(dir: string, name: string, rootModules: string, targetModules: string): void {
  const relative = path.relative(rootModules, dir);
  const target = path.join(targetModules, relative);
  const kept = keptPaths[name];
  if (kept !== undefined) {
    for (const entry of kept) cpSync(path.join(dir, entry), path.join(target, entry), { recursive: true, dereference: true, filter: (src) => !droppedFile.test(src) || src.endsWith('package.json') });
    return;
  }
  cpSync(dir, target, {
    recursive: true,
    dereference: true,
    filter: (src) => {
      if (src === dir) return true;
      const base = path.basename(src);
      if (droppedDir.has(base)) return false;
      return !droppedFile.test(base);
    },
  });
}

const { values, positionals } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } }, allowPositionals: true });
if (!values.from || !values.to || positionals.length === 0) {
  console.error('usage: node infra/gpu/package-closure.ts --from node_modules --to DIR/node_modules PACKAGE...');
  process.exit(2);
}
const packages = closure(positionals, values.from);
for (const [dir, name] of packages) copyPackage(dir, name, values.from, values.to);
console.log([...packages.keys()].map((dir) => path.relative(values.from ?? '', dir)).sort().join('\n'));
