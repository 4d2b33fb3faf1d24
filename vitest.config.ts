import { defineConfig } from 'vitest/config';

// Two projects: unit tests (src/, fake clock, no cluster) and integration tests (test/, against the
// real kube-apiserver and etcd that globalSetup starts once per run). `npm test` runs both.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/**/*.test.ts'], globalSetup: ['test/global-setup.ts'] },
      },
    ],
  },
});
