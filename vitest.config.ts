/**
 * All tests are `test/**\/*.test.ts`, in two projects: `unit` (`test/unit/`, pure and fast, no
 * servers; `npm run test:unit`) and `integration` (everything else: real Temporal dev server,
 * databases, simulators; its global setup finds or builds the Temporal CLI first). `npm test`
 * runs both.
 *
 * Forks, not threads: Temporal's native bridge misbehaves in worker threads. At most 2 test
 * files at once (CI machines have 2 cores; each Temporal test file runs its own server).
 */
import { defineConfig } from 'vitest/config';

const ALL_TESTS = 'test/**/*.test.ts';
const UNIT_TESTS = 'test/unit/**/*.test.ts';

export default defineConfig({
  test: {
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    fileParallelism: true,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: [UNIT_TESTS] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [ALL_TESTS],
          exclude: ['**/node_modules/**', UNIT_TESTS],
          globalSetup: ['./test/global-setup.ts'],
        },
      },
    ],
  },
});
