// The browser half of `npm run bench -- --browser`: builds the page (bench.html included), serves it, and runs the
// page's own engine in headless Debian Chromium (WebGPU/WebGL on SwiftShader here) on each backend asked for.

import type { BenchRow } from '../src/core/bench';
import { launch } from '../tests/browser/chromium';
import { buildAndServe } from '../tests/browser/serve';

export async function browserBench(
  backends: string[],
  sizes: string[],
  steps: number,
): Promise<{ rows: BenchRow[]; failures: string[] }> {
  const served = await buildAndServe();
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const q = new URLSearchParams({ backends: backends.join(','), sizes: sizes.join(','), steps: String(steps) });
    await page.goto(`${served.baseUrl}bench.html?${q}`);
    await page.waitForFunction(() => (window as unknown as { __bench?: unknown }).__bench !== undefined, undefined, {
      timeout: 0,
      polling: 1000,
    });
    const result = (await page.evaluate(() => (window as unknown as { __bench: unknown }).__bench)) as {
      rows: BenchRow[];
      failures: string[];
    };
    result.rows.forEach((r) => (r.backend = `${r.backend} (Chromium)`));
    return result;
  } finally {
    await browser.close();
    await served.close();
  }
}
