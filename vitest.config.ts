// Two test projects: "unit" (Node, fast, parallel) and "browser" (builds the page once, serves it with
// vite preview, drives Debian's Chromium one file at a time). `npm test` runs typecheck, unit, then browser.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/browser/**', '**/node_modules/**'],
          // a guard against a hung test, not a speed check: lesson tests train for real and the three lesson files share
          // two cores, so a loaded CI machine once took a tiny-world lesson past 120 s (timing is `npm run bench`'s job)
          testTimeout: 600_000,
          hookTimeout: 300_000,
          pool: 'forks',
          fileParallelism: true,
          // two files at a time: Vitest's default on a 2-core machine is one, and the lesson files, each on one
          // thread (tfjs wasm), then ran end to end (unit took 1,315 s; the sum of its files)
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          globalSetup: ['tests/browser/global-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 240_000,
          pool: 'forks',
          fileParallelism: false, // one Chromium at a time on a 2-core machine
        },
      },
    ],
  },
});
