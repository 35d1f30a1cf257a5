// The page end to end on WebAssembly: loads the built-in model, trains a tiny run chosen through the backend
// picker, draws its curves without blocking the main thread, stops on request, keeps runs across a reload,
// checks settings and uploaded files before training.

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launch, watchErrors } from './chromium';
import {
  baseUrl,
  cspViolations,
  HAS_BUILTIN,
  hashOf,
  instrument,
  longTasks,
  lossPoints,
  TINY_RANDOM,
  TINY_RUN,
  waitForEnd,
  waitForEngine,
  waitForModel,
  watchLongTasks,
} from './page';

const MODEL = HAS_BUILTIN ? 'tiny-world' : 'random';

/** RAIL: a response to input within 100 ms feels immediate. */
const RESPONSE_BUDGET_MS = 100;

describe('playground on wasm', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    browser = await launch();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    await instrument(page);
    errors = watchErrors(page);
  });
  afterAll(async () => {
    await browser?.close();
  });

  test('the page loads under its CSP and starts the engine with the built-in model', async () => {
    await page.goto(baseUrl() + hashOf({ ...(HAS_BUILTIN ? {} : TINY_RANDOM), ...TINY_RUN }));
    const csp = await page.getAttribute('meta[http-equiv=Content-Security-Policy]', 'content');
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    // auto proves each backend with a training step and takes the fastest: wasm, where WebGPU is SwiftShader (a CPU)
    await waitForEngine(page, 'wasm', 300_000);
    await waitForModel(page, MODEL);
    if (!HAS_BUILTIN) console.warn('[browser tests] public/models/tiny-world is missing: tests ran on a random model');
    const backends = await page.textContent('[data-testid=backends]');
    expect(backends).toMatch(/WebGPU\s*passed its checks \(\d+ ms for a training step/);
    expect(backends).toMatch(/WebAssembly\s*running on one CPU thread/);
  }, 400_000);

  test('an invalid value shows its message beside the field and disables Start', async () => {
    const lr = page.locator('[data-field="train.lr"] input[type=number]');
    await lr.fill('-1');
    await expect.poll(() => page.textContent('[data-field="train.lr"]')).toContain('train.lr = -1 is not valid');
    expect(await page.isDisabled('[data-testid=start]')).toBe(true);
    await lr.fill('0.003');
    await expect.poll(() => page.locator('[data-field="train.lr"] .problem').count()).toBe(0);
  });

  test('a tiny run trains on wasm chosen in the backend picker, the chart gains points, the main thread never blocks', async () => {
    await page.selectOption('[data-field="model.backend"] select', 'wasm');
    await waitForEngine(page, 'wasm');
    await waitForModel(page, MODEL);
    await watchLongTasks(page);
    await page.click('[data-testid=start]');
    await expect.poll(() => lossPoints(page), { timeout: 120_000 }).toBeGreaterThan(0);
    expect(await waitForEnd(page, 120_000)).toBe('completed');
    expect(await lossPoints(page)).toBe(TINY_RUN['train.maxSteps']);
    expect(await page.textContent('[data-testid=end-reason]')).toContain('Completed all 8 steps');
    expect(await page.textContent('[data-testid=run-backend]')).toBe('wasm');
    expect(await page.locator('[data-testid=eval-samples] li').count()).toBe(2);
    // Training runs in the worker, so the main thread only draws. The browser reports every task of 50 ms or more;
    // on a 2-core machine the worker and the main thread share the cores, and the render that answers the Start
    // click was measured at 54-64 ms with two other busy processes. So the
    // bound is RAIL's input-response budget, 100 ms: a main thread that trained would block for whole steps (8 steps took 1.2 s here, about 150 ms each).
    const tasks = await longTasks(page);
    expect(
      tasks.filter((ms) => ms > RESPONSE_BUDGET_MS),
      `main-thread tasks over ${RESPONSE_BUDGET_MS} ms while training: ${tasks.join(', ')} ms`,
    ).toEqual([]);
  });

  test('the sample bench answers with the base and the fine-tuned model side by side', async () => {
    await page.fill('[data-testid=prompt]', 'Ada has a red cup. What colour is the cup?\nA: ');
    await page.click('[data-testid=generate]');
    await expect
      .poll(() => page.textContent('[data-testid=tuned-output]'), { timeout: 60_000 })
      .toContain('Ada has a red cup');
    expect(await page.textContent('[data-testid=base-output]')).toContain('Ada has a red cup');
  });

  test('the trained run ranks its training records by loss', async () => {
    await page.click('[data-testid=loss-table-button]');
    await expect
      .poll(() => page.locator('[data-testid=loss-table] tbody tr').count(), { timeout: 60_000 })
      .toBeGreaterThan(0);
  });

  test('Pause holds a long run, Resume continues it, Stop ends it with the reason "stopped"', async () => {
    const maxSteps = page.locator('[data-field="train.maxSteps"] input');
    await maxSteps.fill('400');
    await page.click('[data-testid=start]');
    await page.waitForSelector('[data-testid=run-state][data-status=training]', { timeout: 60_000 });
    await expect.poll(() => lossPoints(page), { timeout: 120_000 }).toBeGreaterThanOrEqual(3);
    await page.click('[data-testid=pause]');
    await page.waitForTimeout(600); // the step in flight and its progress message land
    const paused = await page.textContent('.bar .num');
    await page.waitForTimeout(1000);
    expect(await page.textContent('.bar .num')).toBe(paused);
    await page.click('[data-testid=resume]');
    await expect.poll(() => page.textContent('.bar .num')).not.toBe(paused);
    await page.click('[data-testid=stop]');
    expect(await waitForEnd(page, 60_000)).toBe('stopped');
    expect(await page.textContent('[data-testid=end-reason]')).toMatch(/Stopped by you after step \d+/);
    expect(await lossPoints(page)).toBeLessThan(400);
  });

  test('a reload shows the finished run from IndexedDB', async () => {
    const before = await page.textContent('[data-testid=end-reason]');
    const points = await lossPoints(page);
    await page.reload();
    expect(await waitForEnd(page, 30_000)).toBe('stopped');
    expect(await page.textContent('[data-testid=end-reason]')).toBe(before);
    expect(await lossPoints(page)).toBe(points);
    expect(await page.locator('[data-testid=runs] li').count()).toBe(2);
  });

  test('runs export to JSON, delete, and import back', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Export all')]);
    const file = await download.path();
    const first = page.locator('[data-testid=runs] li').last();
    await first.locator('text=Delete').click();
    await expect.poll(() => page.locator('[data-testid=runs] li').count()).toBe(1);
    await page.setInputFiles('[data-testid=import]', file);
    await expect.poll(() => page.locator('[data-testid=runs] li').count()).toBe(2);
    expect(await page.textContent('[data-testid=import-message]')).toContain('Imported 1 run');
  });

  test('a bad uploaded file shows its validation message naming the line', async () => {
    await waitForEngine(page, 'wasm');
    await page.selectOption('[data-testid=dataset-select]', 'custom');
    const file = [
      '{"prompt": "2+2=", "completion": "4"}',
      '{"prompt": "3+3=", "completion": 6',
      '{"prompt": "1+1=", "completion": "2"}',
      '{"prompt": "2+2=", "completion": "4"}',
    ].join('\n');
    await page.setInputFiles('[data-testid=upload]', {
      name: 'sums.jsonl',
      mimeType: 'application/json',
      buffer: Buffer.from(file),
    });
    const report = page.locator('[data-testid=data-report]');
    await expect.poll(() => report.textContent(), { timeout: 30_000 }).toContain('sums.jsonl');
    expect(await page.textContent('[data-testid=parse-errors]')).toContain('line 2: not valid JSON');
    expect(await report.textContent()).toContain('exact duplicates');
  });

  test('the page stayed clean: no uncaught errors, no CSP violations', async () => {
    expect(errors).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
  });
});
