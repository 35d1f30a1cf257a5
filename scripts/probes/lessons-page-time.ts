// Wall time of every lesson variant in the page, on wasm, in headless Chromium: from pressing Start to the
// diagnosis on screen (training, every evaluation and the lesson's measurement included; the model already
// loaded). Real runs of the built page, one at a time. Prints a markdown table and, with --json FILE, the rows.
//   npx tsx scripts/probes/lessons-page-time.ts [--lesson ID[,ID...]] [--threads N] [--json FILE]

import * as fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { LESSONS, lessonById } from '../../src/core/lessons/index';
import { variantsOf } from '../../src/core/rules';
import { launch } from '../../tests/browser/chromium';
import { buildAndServe } from '../../tests/browser/serve';

const argv = process.argv.slice(2);
const value = (n: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : undefined);
const lessons = value('lesson')?.split(',').map(lessonById) ?? LESSONS;
const threads = value('threads');
const LIMIT_MS = 15 * 60_000; // a variant that takes this long is reported as such, not waited for

interface Row {
  lesson: number;
  id: string;
  variant: string;
  label: string;
  model: string;
  seconds: number;
  showsPitfall: boolean | null;
}

/** In a fresh context (no stored runs, whose diagnosis could be on screen before Start). */
async function timeVariant(browser: Browser, url: string): Promise<{ seconds: number; text: string; model: string }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('[data-testid=engine-status][data-status=ready]', { timeout: 180_000 });
  await page.waitForSelector('[data-testid=model-loaded]', { timeout: 180_000 });
  await page.waitForSelector('[data-testid=start]:not([disabled])', { timeout: 180_000 });
  const model = (await page.textContent('[data-testid=model-loaded]')) ?? '';
  const t0 = Date.now();
  await page.click('[data-testid=start]');
  const done = page.locator('[data-testid=diagnosis] b');
  await done.waitFor({ timeout: LIMIT_MS });
  const seconds = (Date.now() - t0) / 1000;
  const text = (await page.textContent('[data-testid=diagnosis]')) ?? '';
  await context.close();
  return { seconds, text, model };
}

const served = await buildAndServe();
const browser = await launch();
const rows: Row[] = [];
try {
  for (const lesson of lessons) {
    for (const v of variantsOf(lesson)) {
      const hash = `#lesson=${lesson.id}&variant=${v.id}&model.backend=wasm${threads ? `&threads=${threads}` : ''}`;
      const r = await timeVariant(browser, served.baseUrl + hash);
      const row: Row = {
        lesson: lesson.number,
        id: lesson.id,
        variant: v.id,
        label: v.label,
        model: r.model,
        seconds: +r.seconds.toFixed(1),
        showsPitfall: r.text.includes('Pitfall seen:') ? true : r.text.includes('Diagnosis:') ? false : null,
      };
      rows.push(row);
      console.error(`${lesson.id} / ${v.id}: ${row.seconds} s on ${row.model}`);
    }
  }
} finally {
  await browser.close();
  await served.close();
}
console.log('| # | variant | model | s in the page (wasm) | shows the pitfall |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(
    `| ${r.lesson} | ${r.label} | ${r.model} | ${r.seconds} | ${r.showsPitfall === null ? 'no diagnosis' : r.showsPitfall ? 'yes' : 'no'} |`,
  );
const out = value('json');
if (out) fs.writeFileSync(out, JSON.stringify(rows, null, 1) + '\n');
