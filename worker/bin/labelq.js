#!/usr/bin/env node
// The labelq command. Node 24 runs the TypeScript sources directly (type stripping).
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `labelq needs Node.js 24 or newer; this is ${process.version}. Run "npm run setup" (it installs Node 24 into the project) and use "npx labelq".\n`,
  );
  process.exit(1);
}
// sharp decodes on libuv's threadpool (4 threads by default, sized once when it first starts): give the
// worker's decodes room beside file reads and DNS lookups.
if (process.env.UV_THREADPOOL_SIZE === undefined) {
  const { availableParallelism } = await import('node:os');
  process.env.UV_THREADPOOL_SIZE = String(Math.max(4, availableParallelism() + 2));
}
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
// Every resource is closed by now; exit even if a library keeps a timer alive. process.exit() drops output still
// queued for a slow pipe or socket, so wait until standard output and standard error have taken everything.
const flushed = (stream) => new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', resolve)));
await Promise.race([Promise.all([flushed(process.stdout), flushed(process.stderr)]), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
process.exit(process.exitCode ?? 0);
