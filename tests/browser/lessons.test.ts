// A lesson in the page runs through the core lesson runner: one button trains the pitfall, then the chosen fix,
// draws the fix's curves over the pitfall's and shows both diagnoses side by side.

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launch, watchErrors } from './chromium';
import { baseUrl, HAS_BUILTIN, instrument, waitForEngine, waitForModel } from './page';

describe.skipIf(!HAS_BUILTIN)('a lesson, pitfall against fix', () => {
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await instrument(page);
    errors = watchErrors(page);
  });
  afterAll(async () => {
    await browser?.close();
  });

  test('one button runs the pitfall and the chosen fix in turn; both diagnoses side by side, the curves overlaid', async () => {
    // lesson 2's pitfall and its "same 20 steps" fix: the two shortest runs of any lesson
    await page.goto(baseUrl() + '#lesson=underfitting&model.backend=wasm');
    await waitForEngine(page, 'wasm');
    await waitForModel(page, 'tiny-world');
    await expect.poll(() => page.inputValue('[data-testid=lesson-select]')).toBe('underfitting');
    await page.selectOption('[data-testid=compare-fix]', 'higher-lr');
    await page.click('[data-testid=compare]');
    const pitfall = page.locator('[data-testid=compare-pitfall]');
    const fixed = page.locator('[data-testid=compare-fixed]');
    await expect.poll(() => pitfall.getAttribute('data-shows-pitfall'), { timeout: 240_000 }).not.toBe('');
    expect(await pitfall.textContent()).toContain('Pitfall: lr 1e-4, 20 steps');
    expect(await pitfall.textContent()).toMatch(
      /After 20 steps validation loss is \d+\.\d\d, only \d+% below the base model’s \d+\.\d\d/,
    );
    expect(await pitfall.getAttribute('data-shows-pitfall')).toBe('true');
    // the fix trains while the pitfall's curves stay on the chart, faded
    await expect.poll(() => fixed.getAttribute('data-shows-pitfall'), { timeout: 240_000 }).not.toBe('');
    expect(await fixed.textContent()).toContain('Fix: lr 3e-3, same 20 steps');
    expect(await fixed.textContent()).toMatch(
      /After 20 steps validation loss is \d+\.\d\d, \d+% below the base model’s \d+\.\d\d/,
    );
    expect(Number(await page.getAttribute('[data-testid=loss-chart]', 'data-overlays'))).toBeGreaterThan(0);
    // the faded curve is labelled by what the pitfall's run changed: its learning rate
    expect(await page.textContent('[data-testid=loss-chart]')).toMatch(/lr 1e-4→3e-3/);
    // the run on screen is the fix, with the same diagnosis as shown beside the pitfall's
    const fixText = ((await fixed.locator('p').textContent()) ?? '').replace(/^Diagnosis:\s*/, '');
    expect(await page.textContent('[data-testid=diagnosis]')).toContain(fixText);
    expect(errors).toEqual([]);
  });

  test('a lesson that names small-world loads it; a lesson on tiny-world loads that back', async () => {
    await page.selectOption('[data-testid=lesson-select]', 'shortcut');
    await waitForModel(page, 'small-world');
    expect(await page.inputValue('[data-field="model.name"] select')).toBe('small-world');
    await page.selectOption('[data-testid=lesson-select]', 'underfitting');
    await waitForModel(page, 'tiny-world');
    expect(errors).toEqual([]);
  });
});
