import { defineConfig } from 'vitest/config';

// One Redis and one S3-compatible server (Swift + s3api) for the whole run: test/harness/global-setup.ts.
// 2-core machines: two test files at a time, each in its own process (native addons: onnxruntime, sharp).
export default defineConfig({
  test: {
    include: ['shared/src/**/*.test.ts', 'producer/src/**/*.test.ts', 'worker/src/**/*.test.ts', 'dashboard/src/**/*.test.ts', 'test/**/*.test.ts'],
    // Long fault-injection tests (npm run test:faults) and GPU tests (npm run test:gpu) have their own configs.
    exclude: ['**/node_modules/**', 'test/faults/**', 'test/gpu/**'],
    globalSetup: ['test/harness/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
