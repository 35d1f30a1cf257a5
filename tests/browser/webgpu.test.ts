// A tiny run on WebGPU: in headless Chromium that is SwiftShader, a CPU pretending to be a GPU, so the model is
// tiny and the run short. Also proves the CSP leaves WebGPU (and its shader compilation) working.

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launch, watchErrors } from './chromium';
import { baseUrl, cspViolations, hashOf, instrument, lossPoints, TINY_RANDOM, TINY_RUN, waitForEnd, waitForEngine, waitForModel } from './page';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

test('a tiny run trains on WebGPU (SwiftShader)', async () => {
  const page = await browser.newPage();
  await instrument(page);
  const errors = watchErrors(page);
  await page.goto(baseUrl() + hashOf({ ...TINY_RANDOM, ...TINY_RUN, 'model.backend': 'webgpu', 'train.batchSize': 2, 'train.maxSteps': 4 }));
  await waitForEngine(page, 'webgpu');
  await waitForModel(page, 'random');
  expect(await page.getAttribute('[data-backend=webgpu]', 'data-state')).toBe('used');
  expect(await page.textContent('[data-backend=webgpu]')).toContain('adapter');
  await page.click('[data-testid=start]');
  expect(await waitForEnd(page, 180_000)).toBe('completed');
  expect(await lossPoints(page)).toBe(4);
  expect(await page.textContent('[data-testid=run-backend]')).toBe('webgpu');
  const loss = Number(await page.textContent('[data-testid=train-loss]'));
  expect(loss).toBeGreaterThan(0); // a read-back of zeros would mean broken WebGPU flags
  expect(errors).toEqual([]);
  expect(await cspViolations(page)).toEqual([]);
});
