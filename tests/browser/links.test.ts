// Links and failures: a plain visit opens on small-world and an old link on tiny-world; the setup round-trips through the URL hash; a teacher's lesson link hides the controls
// the lesson does not list and the run ends with the lesson's diagnosis; a crashed worker is reported in plain
// words, its steps are kept, and the engine can be started again.

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launch, watchErrors } from './chromium';
import {
  baseUrl,
  HAS_BUILTIN,
  hashOf,
  instrument,
  lossPoints,
  TINY_RANDOM,
  waitForEnd,
  waitForEngine,
  waitForModel,
} from './page';

const MODEL = HAS_BUILTIN ? {} : TINY_RANDOM;

describe('links and failures', () => {
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

  test('a plain visit opens on small-world; a link that names no model (written when tiny-world was the default) opens on tiny-world', async () => {
    await page.goto(baseUrl());
    await expect.poll(() => page.inputValue('[data-field="model.name"] select').catch(() => '')).toBe('small-world');
    await page.goto(baseUrl() + hashOf({ 'model.backend': 'wasm', 'lora.rank': 8 }));
    await page.reload(); // a hash-only navigation does not reload the page
    await expect.poll(() => page.inputValue('[data-field="model.name"] select').catch(() => '')).toBe('tiny-world');
    expect(await page.inputValue('[data-field="lora.rank"] input')).toBe('8');
    // the page rewrites the link with its model named, so it keeps that meaning
    await expect.poll(() => page.evaluate(() => location.hash)).toContain('model.name=tiny-world');
    await waitForModel(page, 'tiny-world');
  });

  test('the setup round-trips through the URL hash', async () => {
    await page.goto(
      baseUrl() +
        hashOf({ ...MODEL, 'model.backend': 'wasm', 'lora.rank': 8, 'data.separator': JSON.stringify('\n=> ') }),
    );
    await waitForEngine(page, 'wasm');
    expect(await page.inputValue('[data-field="lora.rank"] input')).toBe('8');
    expect(await page.inputValue('[data-field="data.separator"] input')).toBe('\\n=> ');
    await page.fill('[data-field="train.lr"] input[type=number]', '0.01');
    await expect.poll(() => page.evaluate(() => location.hash)).toContain('train.lr=0.01');
    const link = page.url();
    expect(link).toContain('lora.rank=8');
    const other = await browser.newPage();
    await other.goto(link);
    await expect
      .poll(() => other.inputValue('[data-field="train.lr"] input[type=number]').catch(() => ''))
      .toBe('0.01');
    expect(await other.inputValue('[data-field="lora.rank"] input')).toBe('8');
    expect(await other.inputValue('[data-field="data.separator"] input')).toBe('\\n=> ');
    await other.close();
  });

  test("a teacher's lesson link shows only the lesson's controls, and the run ends with a diagnosis", async () => {
    await page.goto(
      baseUrl() +
        '#lesson=overfitting&hide=1&' +
        hashOf({ ...MODEL, 'model.backend': 'wasm', 'train.maxSteps': 10, 'eval.everySteps': 5 }).slice(1),
    );
    await page.reload(); // a hash-only navigation does not reload the page
    await waitForEngine(page, 'wasm');
    await expect.poll(() => page.inputValue('[data-testid=lesson-select]')).toBe('overfitting');
    expect(await page.isVisible('[data-field="train.lr"]')).toBe(true);
    expect(await page.isVisible('[data-field="lora.rank"]')).toBe(true);
    expect(await page.locator('[data-field="train.batchSize"]').count()).toBe(0);
    expect(await page.locator('[data-field="train.schedule"]').count()).toBe(0);
    await page.click('[data-testid=start]');
    expect(await waitForEnd(page, 120_000)).toBe('completed');
    await expect
      .poll(() => page.textContent('[data-testid=diagnosis]'), { timeout: 60_000 })
      .toMatch(/Validation loss/);
  });

  test('a crashed worker is reported in plain words, its steps are kept, and the engine restarts', async () => {
    await page.goto(
      baseUrl() +
        hashOf({
          ...MODEL,
          'model.backend': 'wasm',
          'train.maxSteps': 400,
          'train.batchSize': 4,
          'eval.everySteps': 50,
          'eval.maxBatches': 1,
          'eval.general': false,
        }),
    );
    await page.reload();
    await waitForEngine(page, 'wasm');
    await page.click('[data-testid=start]');
    await page.waitForSelector('[data-testid=run-state][data-status=training]', { timeout: 60_000 });
    await expect.poll(() => lossPoints(page), { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
    const worker = page.workers().find((w) => w.url().includes('trainer'));
    expect(worker, 'the training worker').toBeDefined();
    await worker!.evaluate(() =>
      setTimeout(() => {
        throw new Error('simulated crash');
      }),
    );
    const alert = await page.waitForSelector('[data-testid=engine-dead]', { timeout: 30_000 });
    expect(await alert.textContent()).toContain('The training worker crashed');
    expect(await waitForEnd(page, 10_000)).toBe('failed');
    expect(await page.textContent('[data-testid=end-reason]')).toMatch(/steps recorded so far are kept/);
    expect(await lossPoints(page)).toBeGreaterThanOrEqual(2);
    await page.click('text=Start the engine again');
    await waitForEngine(page, 'wasm');
    await expect.poll(() => page.isEnabled('[data-testid=start]'), { timeout: 60_000 }).toBe(true); // once the model has loaded
    expect(errors.filter((e) => !e.includes('simulated crash'))).toEqual([]);
  });
});
