import { defineConfig } from 'vitest/config';

// Three tiers: `unit` is pure and fast; `int` runs against real Postgres, NATS and Redis
// (scripts/services.sh starts them). Integration files share servers, so they isolate by
// unique ids, never by truncating tables. `browser` starts Quorum as `npm start` does and
// drives Debian's Chromium through playwright-core (test/browser).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'packages/*/src/**/*.test.ts',
            'services/*/src/**/*.test.ts',
            'web/src/**/*.test.ts',
            'test/**/*.test.ts',
            'load-tests/bench/**/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/*.browser.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'int',
          include: ['packages/*/src/**/*.int.test.ts', 'services/*/src/**/*.int.test.ts', 'test/**/*.int.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.browser.test.ts'],
          exclude: ['**/node_modules/**'],
          // A page waits on a round trip through the gateway, the projection or the SFU while
          // Chromium's pages fill both cores: 1 s (the default) is too tight for expect.poll.
          expect: { poll: { timeout: 15_000 } },
          testTimeout: 240_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
