// Inputs that arrive from a link or a file are checked before anything is built: a link to a model too big for
// the tab is refused with its size and the limit (and the page still trains afterwards), an out-of-range width
// never reaches the engine, and JSON-array, UTF-16 and NUL-byte uploads load or are reported by line.

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launch, watchErrors } from './chromium';
import { baseUrl, cspViolations, hashOf, instrument, lossPoints, TINY_RUN, waitForEnd, waitForEngine } from './page';

/** The shared link of issue 12: 24 layers × 4096 wide, about 19 GB of weights. */
const HUGE = { 'model.name': 'random', 'model.arch.nEmbd': 4096, 'model.arch.nLayer': 24, 'model.arch.nHead': 32 };

/** Ten prompt/completion records, as one might export them from another tool. */
const SUMS = Array.from({ length: 10 }, (_, i) => ({ prompt: `${i}+${i}=`, completion: String(2 * i) }));
const JSONL = SUMS.map((r) => JSON.stringify(r)).join('\n') + '\n';

function utf16le(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

describe('inputs from links and files', () => {
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

  const upload = (name: string, buffer: Buffer) =>
    page.setInputFiles('[data-testid=upload]', { name, mimeType: 'application/octet-stream', buffer });
  const report = () => page.locator('[data-testid=data-report]').textContent();

  test('a link to a model too big for the tab is refused with its size and the limit; the page then trains a valid one', async () => {
    await page.goto(baseUrl() + hashOf({ ...HUGE, 'model.backend': 'wasm', ...TINY_RUN }));
    await waitForEngine(page, 'wasm');
    const refused = page.locator('[data-testid=model-refused]');
    await expect
      .poll(() => refused.textContent(), { timeout: 10_000 })
      .toMatch(
        /24 layers × 4096 wide is not valid: its 4\.83 billion parameters need 38\.7 GB \(19\.3 GB of float32 weights.*over the [\d.]+ [MG]B limit here \((half of the [\d.]+ GB this device reports|the most this page allows on any device)/,
      );
    expect(await page.isDisabled('[data-testid=start]')).toBe(true);
    expect(await page.locator('[data-testid=model-loaded]').count()).toBe(0); // the worker was not asked to build it
    // the tab is not stuck allocating: it answers at once, and the fields can be changed to a model that fits
    await page.fill('[data-field="model.arch.nEmbd"] input', '16');
    await page.fill('[data-field="model.arch.nHead"] input', '2');
    await page.fill('[data-field="model.arch.nLayer"] input', '1');
    await expect.poll(() => refused.count()).toBe(0);
    await expect.poll(() => page.isEnabled('[data-testid=start]')).toBe(true);
    await page.click('[data-testid=start]');
    expect(await waitForEnd(page, 120_000)).toBe('completed');
    expect(await lossPoints(page)).toBe(TINY_RUN['train.maxSteps']);
  });

  test('an out-of-range width from a link never reaches the engine: the field is named, no raw engine error', async () => {
    await page.goto(baseUrl() + hashOf({ 'model.name': 'random', 'model.arch.nEmbd': 65536, 'model.backend': 'wasm' }));
    await page.reload(); // a hash-only navigation does not reload the page
    await waitForEngine(page, 'wasm');
    await expect
      .poll(() => page.textContent('[data-testid=model-refused]').catch(() => ''), { timeout: 10_000 })
      .toContain('model.arch.nEmbd = 65536 is not valid: an integer from 1 to 16384');
    expect(await page.locator('[data-testid=model-loaded]').count()).toBe(0);
    expect(await page.textContent('body')).not.toContain('Invalid typed array length');
    await page.click('text=Use small-world');
    await expect
      .poll(() => page.textContent('[data-testid=model-loaded]').catch(() => null), { timeout: 60_000 })
      .toBe('small-world');
  });

  test('a backend the link names wrongly is replaced by auto, with a notice naming it', async () => {
    await page.goto(baseUrl() + hashOf({ 'model.backend': 'cuda' }));
    await page.reload();
    await expect
      .poll(() => page.locator('.notice').allTextContents(), { timeout: 30_000 })
      .toContainEqual(
        expect.stringContaining(
          'model.backend = "cuda" is not valid: one of auto, webgpu, webgl, wasm, cpu; using auto.',
        ),
      );
    await page.waitForSelector('[data-testid=engine-status][data-status=ready]', { timeout: 120_000 });
    expect(await page.inputValue('[data-field="model.backend"] select')).toBe('auto');
  });

  test('a .json file holding an array of records loads and trains', async () => {
    await page.goto(
      baseUrl() +
        hashOf({
          'model.name': 'random',
          'model.arch.nLayer': 1,
          'model.arch.nEmbd': 16,
          'model.arch.nHead': 2,
          'model.backend': 'wasm',
          ...TINY_RUN,
        }),
    );
    await page.reload();
    await waitForEngine(page, 'wasm');
    await page.selectOption('[data-testid=dataset-select]', 'custom');
    await upload('export.json', Buffer.from(JSON.stringify(SUMS, null, 2)));
    await expect.poll(report, { timeout: 30_000 }).toContain('export.json (JSON)');
    expect(await report()).toMatch(/Usable records\s*10/);
    expect(await page.locator('[data-testid=parse-errors]').count()).toBe(0);
    await expect.poll(() => page.isEnabled('[data-testid=start]')).toBe(true);
    await page.click('[data-testid=start]');
    expect(await waitForEnd(page, 120_000)).toBe('completed');
  });

  test('a UTF-16 file (with a byte-order mark) is decoded and says so', async () => {
    await upload('sums-utf16.jsonl', utf16le(JSONL));
    await expect.poll(report, { timeout: 30_000 }).toContain('sums-utf16.jsonl (JSONL)');
    expect(await report()).toMatch(/Usable records\s*10/);
    expect(await page.locator('[data-testid=parse-errors]').count()).toBe(0);
    expect(await page.textContent('[data-testid=encoding]')).toBe(
      'Read sums-utf16.jsonl as UTF-16 (little-endian) text.',
    );
  });

  test('NUL bytes are reported by line; a file of nothing but NUL bytes loads nothing and says why', async () => {
    const lines = JSONL.split('\n');
    lines[3] = '{"prompt": "\0\0\0", "completion": "x"}';
    await upload('nul.jsonl', Buffer.from(lines.join('\n')));
    await expect.poll(report, { timeout: 30_000 }).toContain('nul.jsonl');
    expect(await page.textContent('[data-testid=parse-errors]')).toContain('line 4: holds 3 NUL byte(s)');
    expect(await report()).toMatch(/Usable records\s*9/);

    await upload('zeros.bin', Buffer.alloc(256));
    await expect.poll(report, { timeout: 30_000 }).toContain('zeros.bin');
    expect(await page.textContent('[data-testid=parse-errors]')).toContain('line 1: holds 256 NUL byte(s)');
    expect(await report()).toMatch(/Usable records\s*0/);
    expect(await page.isDisabled('[data-testid=start]')).toBe(true);
  });

  test('a file that is not UTF-8 is refused by name', async () => {
    await upload('latin1.csv', Buffer.from('prompt,completion\ncaf\xe9,x\n', 'latin1'));
    await expect
      .poll(() => page.textContent('[data-testid=data-error]').catch(() => ''), { timeout: 30_000 })
      .toContain('latin1.csv is not UTF-8 text: line 2 holds the byte 0xe9');
  });

  test('the page stayed clean: no uncaught errors, no CSP violations', async () => {
    expect(errors).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
  });
});
