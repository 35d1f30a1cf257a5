// Makes docs/screenshot-training.png (mid-run, an earlier run faded behind) and docs/screenshot-early-stop.png
// (the overfitting lesson's early-stopping fix, over its pitfall) from the built page on WebAssembly.
//   npm run screenshots

import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { launch } from './chromium';
import { buildAndServe } from './serve';

const VIEWPORT = { width: 1440, height: 1100 };

async function runTo(page: Page, done: () => Promise<boolean>, timeoutMs: number) {
  await page.waitForSelector('[data-testid=start]:not([disabled])', { timeout: 60_000 }).catch(async () => {
    throw new Error(`Start stayed disabled: ${await page.getAttribute('[data-testid=start]', 'title')}`);
  });
  await page.click('[data-testid=start]');
  const t0 = Date.now();
  while (!(await done())) {
    if (Date.now() - t0 > timeoutMs) throw new Error('the run took too long');
    await page.waitForTimeout(250);
  }
}

const ended = (page: Page) => async () => (await page.locator('[data-testid=end-reason]').count()) > 0;
const stepsDone = async (page: Page) => Number(await page.getAttribute('[data-testid=loss-chart]', 'data-points'));

async function open(page: Page, url: string) {
  await page.goto(url);
  await page.reload(); // hash-only navigations do not reload
  await page.waitForSelector('[data-testid=engine-status][data-status=ready]', { timeout: 120_000 });
  await page.waitForSelector('[data-testid=model-loaded]', { timeout: 120_000 });
}

const served = await buildAndServe();
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: VIEWPORT });
  const common = 'model.backend=wasm&train.batchSize=8&eval.everySteps=10&eval.maxBatches=2';
  // an earlier run at a higher learning rate, drawn faded behind the next
  await open(
    page,
    `${served.baseUrl}#${common}&train.maxSteps=150&train.lr=0.02&train.warmupSteps=10&train.schedule=cosine`,
  );
  await runTo(page, ended(page), 600_000);
  await open(
    page,
    `${served.baseUrl}#${common}&train.maxSteps=150&train.lr=0.005&train.warmupSteps=10&train.schedule=cosine`,
  );
  await page.fill('[data-testid=prompt]', 'Zoe has a hat and Owen has a book. Who has the book?\nA: ');
  await runTo(page, async () => (await stepsDone(page)) >= 95, 600_000);
  await page.click('[data-testid=generate]');
  await page.waitForFunction(
    () => !document.querySelector('[data-testid=tuned-output]')?.textContent?.startsWith('—'),
    null,
    { timeout: 60_000 },
  );
  await page.screenshot({ path: path.resolve('docs/screenshot-training.png') });
  await page.click('[data-testid=stop]');
  await page.waitForSelector('[data-testid=end-reason]', { timeout: 60_000 });

  // a fresh browser profile: the overfitting pitfall, then its early-stopping fix drawn over it
  const lesson = await browser.newPage({ viewport: VIEWPORT });
  await open(lesson, `${served.baseUrl}#lesson=overfitting&variant=pitfall&model.backend=wasm`);
  await runTo(lesson, ended(lesson), 600_000);
  await open(lesson, `${served.baseUrl}#lesson=overfitting&variant=early-stopping&model.backend=wasm`);
  await runTo(lesson, ended(lesson), 600_000);
  await lesson.waitForSelector('[data-testid=diagnosis] b', { timeout: 120_000 });
  await lesson.screenshot({ path: path.resolve('docs/screenshot-early-stop.png') });
  console.log('end:', await lesson.textContent('[data-testid=end-reason]'));
} finally {
  await browser.close();
  await served.close();
}
