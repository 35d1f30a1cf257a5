// The browser half of `npm run bench -- --browser`: builds the page (bench.html included), serves it, and runs the
// page's own engine in headless Debian Chromium (WebGPU/WebGL on SwiftShader here) on each backend asked for.

import type { BenchRow } from '../src/core/bench';
import { launch } from '../tests/browser/chromium';
import { buildAndServe } from '../tests/browser/serve';

export async function browserBench(
  backends: string[],
  sizes: string[],
  steps: number,
  threads: number[] = [1],
): Promise<{ rows: BenchRow[]; failures: string[] }> {
  const served = await buildAndServe();
  const browser = await launch();
  const all = { rows: [] as BenchRow[], failures: [] as string[] };
  try {
    // one page load per wasm thread count (the backend starts once per worker): every backend on the first count,
    // wasm alone on the others
    for (const [i, t] of threads.entries()) {
      const bs = i === 0 ? backends : backends.filter((b) => b === 'wasm');
      if (bs.length === 0) continue;
      const page = await browser.newPage();
      const q = new URLSearchParams({
        backends: bs.join(','),
        sizes: sizes.join(','),
        steps: String(steps),
        threads: String(t),
      });
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
      all.rows.push(...result.rows);
      all.failures.push(...result.failures);
      await page.close();
    }
    return all;
  } finally {
    await browser.close();
    await served.close();
  }
}
