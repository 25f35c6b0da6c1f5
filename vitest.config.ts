import { defineConfig } from 'vitest/config';

// Two projects: unit tests need nothing but Node; integration tests start real services
// (docker-registry, skopeo, git) and run one file at a time so their ports and processes stay apart.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
