import { defineConfig } from 'vitest/config';

// `npm run test:gpu`: the GPU smoke test, for a host with an NVIDIA GPU, CUDA 12, cuDNN 9 and onnxruntime-node
// installed with ONNXRUNTIME_NODE_INSTALL=cuda12. No Redis or S3 server: it drives the inference engine directly.
// Elsewhere it is skipped, and the skipped test's name says why.
export default defineConfig({
  test: {
    include: ['test/gpu/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    // Verbose: the skipped test's name carries the reason.
    reporters: ['verbose'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
