// Global setup of the browser tests: fail loudly if Chromium is missing, then build the page once and serve it;
// tests read the URL with inject('baseUrl').

import type { TestProject } from 'vitest/node';
import { CHROMIUM, chromiumMissing } from './chromium';
import { buildAndServe } from './serve';

declare module 'vitest' {
  interface ProvidedContext {
    baseUrl: string;
  }
}

let close: (() => Promise<void>) | null = null;

export async function setup(project: TestProject) {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const t0 = Date.now();
  const served = await buildAndServe();
  close = served.close;
  project.provide('baseUrl', served.baseUrl);
  console.log(
    `[browser tests] built in ${((Date.now() - t0) / 1000).toFixed(1)} s; serving ${served.baseUrl}; Chromium ${CHROMIUM}`,
  );
}

export async function teardown() {
  await close?.();
}
