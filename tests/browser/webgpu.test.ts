// Every backend trains the shipped model at the size users run (batch 16, its full 128-token context) and agrees
// with wasm step by step; auto picks the fastest backend that passes its proof; a lost GPU device is reported,
// the history kept, and the engine restarts on another backend. In headless Chromium WebGPU and WebGL run on
// SwiftShader (a CPU), so the runs are short in steps, not small in size.

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launch, watchErrors } from './chromium';
import {
  baseUrl,
  cspViolations,
  hashOf,
  instrument,
  lossPoints,
  waitForEnd,
  waitForEngine,
  waitForModel,
} from './page';

/** Per-step losses may differ from wasm's by float rounding (summation order differs by backend) amplified over 10 Adam steps. */
const LOSS_TOLERANCE = 2e-3; // relative
/** 10 steps of batch 16 on SwiftShader take minutes (a CPU emulating a GPU); more on a busy machine. */
const SLOW = 900_000;

const REAL_RUN = {
  'model.name': 'tiny-world',
  'train.batchSize': 16,
  'train.maxSteps': 10,
  'eval.everySteps': 10,
  'eval.maxBatches': 1,
  'eval.general': false,
};

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** The losses of the newest stored run, read from the page's IndexedDB. */
async function storedLosses(page: Page): Promise<number[]> {
  return page.evaluate(
    () =>
      new Promise<number[]>((resolve, reject) => {
        const open = indexedDB.open('lora-playground');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const all = open.result.transaction('runs').objectStore('runs').getAll();
          all.onsuccess = () => {
            const runs = (all.result as { createdAt: number; steps: { loss: number }[] }[]).sort(
              (a, b) => a.createdAt - b.createdAt,
            );
            resolve(runs.at(-1)?.steps.map((s) => s.loss) ?? []);
          };
        };
      }),
  );
}

/** Every step's loss within LOSS_TOLERANCE (relative) of the reference run's. */
function expectAgrees(losses: number[], reference: number[], refName: string) {
  for (let i = 0; i < 10; i++)
    expect(
      Math.abs(losses[i] - reference[i]) / reference[i],
      `step ${i + 1}: ${losses[i]} vs ${refName} ${reference[i]}`,
    ).toBeLessThan(LOSS_TOLERANCE);
}

async function trainOn(
  backend: string,
  query = '',
): Promise<{ losses: number[]; page: Page; context: BrowserContext; errors: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await instrument(page);
  const errors = watchErrors(page);
  await page.goto(baseUrl() + query + hashOf({ ...REAL_RUN, 'model.backend': backend }));
  await waitForEngine(page, backend, 180_000);
  await waitForModel(page, 'tiny-world');
  expect(await page.getAttribute(`[data-backend=${backend}]`, 'data-state')).toBe('used');
  await page.click('[data-testid=start]');
  expect(await waitForEnd(page, 900_000)).toBe('completed');
  expect(await lossPoints(page)).toBe(10);
  expect(await page.textContent('[data-testid=run-backend]')).toBe(backend);
  await expect.poll(() => storedLosses(page).then((l) => l.length), { timeout: 10_000 }).toBe(10);
  return { losses: await storedLosses(page), page, context, errors };
}

describe('the shipped model, batch 16 × 128 tokens, 10 steps', () => {
  let reference: number[] = [];

  test(
    'wasm: the reference run',
    async () => {
      const { losses, context, errors } = await trainOn('wasm');
      expect(losses.every((l) => l > 0.1 && Number.isFinite(l))).toBe(true);
      reference = losses;
      expect(errors).toEqual([]);
      await context.close();
    },
    SLOW,
  );

  test(
    'wasm on 2 threads (the threaded build, ?threads=2): every step agrees with one thread',
    async () => {
      expect(reference.length).toBe(10);
      const { losses, page, context, errors } = await trainOn('wasm', '?threads=2');
      // the threaded build really ran, on 2 threads, with our kernels on its shared memory
      const line = (await page.textContent('[data-backend=wasm]')) ?? '';
      expect(line).toMatch(/running on 2 CPU threads/);
      expect(line).not.toContain('fused kernels could not start');
      expectAgrees(losses, reference, 'one thread');
      expect(errors).toEqual([]);
      expect(await cspViolations(page)).toEqual([]);
      await context.close();
    },
    SLOW,
  );

  test(
    'a threaded start that takes too long is restarted on one thread, saying so, and trains',
    async () => {
      // ?threadStartMs=0: every threaded start counts as too slow, as one that never finishes would
      const { losses, page, context, errors } = await trainOn('wasm', '?threads=2&threadStartMs=0');
      expect(await page.textContent('[data-testid=thread-note]')).toMatch(
        /did not start on 2 wasm threads within 0 s, so it was restarted on one thread/,
      );
      expect(await page.textContent('[data-backend=wasm]')).toMatch(/running on one CPU thread/);
      expect(losses).toEqual(reference); // the single-threaded build, the same steps
      expect(errors).toEqual([]);
      await context.close();
    },
    SLOW,
  );

  test.each(['webgpu', 'webgl'])(
    '%s: every step agrees with wasm, no zeros, no divergence',
    async (backend) => {
      expect(reference.length).toBe(10);
      const { losses, page, context, errors } = await trainOn(backend);
      for (let i = 0; i < 10; i++) expect(losses[i], `step ${i + 1}`).toBeGreaterThan(0);
      expectAgrees(losses, reference, 'wasm');
      expect(errors).toEqual([]);
      expect(await cspViolations(page)).toEqual([]);
      await context.close();
    },
    SLOW,
  );
});

test(
  'auto proves each backend with a training step, shows its time, and picks the fastest that passes',
  async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(baseUrl() + hashOf({ 'model.backend': 'auto' }));
    // On SwiftShader every GPU backend is a CPU emulation: wasm is faster, so auto must take it
    await waitForEngine(page, 'wasm', 300_000);
    const line = async (b: string) => ({
      state: await page.getAttribute(`[data-backend=${b}]`, 'data-state'),
      text: (await page.textContent(`[data-backend=${b}]`)) ?? '',
    });
    const ms = (text: string) => Number(/(\d+) ms/.exec(text)?.[1] ?? NaN);
    const [gpu, gl, wasm] = [await line('webgpu'), await line('webgl'), await line('wasm')];
    expect(wasm.state).toBe('used');
    for (const other of [gpu, gl]) {
      expect(other.state).toBe('passed');
      expect(other.text).toMatch(/passed its checks \(\d+ ms for a training step/);
      expect(other.text).toContain('not used: wasm was faster');
      expect(ms(other.text)).toBeGreaterThan(ms(wasm.text));
    }
    expect(wasm.text).toMatch(/\d+ ms per proof step/);
    await context.close();
  },
  SLOW,
);

test(
  'a lost GPU device is reported, the steps so far are kept, and the engine restarts on another backend',
  async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(
      baseUrl() +
        hashOf({
          'model.name': 'tiny-world',
          'model.backend': 'webgpu',
          'train.batchSize': 4,
          'train.maxSteps': 200,
          'eval.everySteps': 100,
          'eval.general': false,
        }),
    );
    await waitForEngine(page, 'webgpu', 180_000);
    await waitForModel(page, 'tiny-world');
    await page.click('[data-testid=start]');
    await expect.poll(() => lossPoints(page), { timeout: 120_000 }).toBeGreaterThanOrEqual(2);
    const worker = page.workers().find((w) => w.url().includes('trainer'));
    expect(worker, 'the training worker').toBeDefined();
    // what a driver reset or a GPU crash does: the device goes away under the running backend
    await worker!.evaluate(() =>
      (
        self as unknown as { _tfengine: { backendInstance: { device: { destroy(): void } } } }
      )._tfengine.backendInstance.device.destroy(),
    );
    const alert = await page.waitForSelector('[data-testid=engine-dead]', { timeout: 60_000 });
    expect(await alert.textContent()).toContain('The GPU device was lost');
    expect(await waitForEnd(page, 10_000)).toBe('failed');
    expect(await lossPoints(page)).toBeGreaterThanOrEqual(2);
    await page
      .locator('[data-testid=engine-dead] button', { hasText: 'Restart on WebAssembly' })
      .click({ timeout: 120_000 });
    await waitForEngine(page, 'wasm');
    await expect.poll(() => page.isEnabled('[data-testid=start]'), { timeout: 60_000 }).toBe(true);
    expect(await lossPoints(page)).toBeGreaterThanOrEqual(2); // the lost run's curve is still on screen
    expect(errors.filter((e) => !/device|GPU|WebGPU|destroyed/i.test(e))).toEqual([]);
    await context.close();
  },
  SLOW,
);
