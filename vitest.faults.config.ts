import { defineConfig } from 'vitest/config';

// Fault-injection tests (npm run test:faults): real `labelq worker` processes against PRIVATE services that
// the tests kill and restart (test/support/fault-services.ts), so no globalSetup. One file at a time: they
// measure recovery times and load both cores. docs/reliability.md explains what each one proves.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
  },
});
