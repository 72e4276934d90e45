/** Progress lines on standard error (the table and the JSON path go to standard output). */
const startedAtMs = performance.now();

export function progress(message: string): void {
  process.stderr.write(`[bench ${((performance.now() - startedAtMs) / 1000).toFixed(1).padStart(6)}s] ${message}\n`);
}
