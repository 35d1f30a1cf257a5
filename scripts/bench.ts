// Speed benchmark: ms/step, tokens/s and peak tensor bytes of a training step, per backend, for LoRA and for full
// fine-tuning, on stated model sizes. Never a test: quote medians and ratios from one run.
//   npm run bench [-- --json] [--steps 8] [--backends wasm,cpu] [--sizes tiny-world,ref-0.8M]
//                 [--browser [--browser-backends webgpu,webgl,wasm]]   also the page's engine in headless Chromium

import { initBackend } from '../src/core/backend';
import { benchRow, BENCH_WARMUP, type BenchRow } from '../src/core/bench';
import type { Backend } from '../src/core/config';
import { browserBench } from './bench-browser';

const argv = process.argv.slice(2);
const opt = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : d);
const json = argv.includes('--json');
const STEPS = Number(opt('steps', '8'));
const backends = opt('backends', 'wasm,cpu').split(',').filter(Boolean) as Backend[];
const sizes = opt('sizes', 'tiny-world,ref-0.8M').split(',');

const rows: BenchRow[] = [];
const failures: string[] = [];
for (const b of backends) {
  const rep = await initBackend(b);
  for (const size of sizes)
    for (const method of ['lora', 'full'] as const) {
      const steps = b === 'cpu' ? Math.min(STEPS, 4) : STEPS; // cpu is ~30x slower; fewer steps
      const row = await benchRow(size, method, steps, rep.embedMode);
      rows.push(row);
      if (!json) console.error(`${b} ${size} ${method}: ${row.msPerStep.toFixed(0)} ms/step`);
    }
}
if (argv.includes('--browser')) {
  // SwiftShader is a CPU: fewer steps there
  const got = await browserBench(opt('browser-backends', 'webgpu,webgl,wasm').split(','), sizes, Math.min(STEPS, 5));
  rows.push(...got.rows);
  failures.push(...got.failures);
}

if (json) console.log(JSON.stringify({ steps: STEPS, warmupExcluded: BENCH_WARMUP, rows, failures }, null, 2));
else {
  console.log('| backend | model | method | params (trainable) | batch × seq | ms/step (median) | tokens/s | peak tensor MB |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.backend} | ${r.size} | ${r.method} | ${r.params.toLocaleString('en-US')} (${r.trainable.toLocaleString('en-US')}) | ${r.batch} × ${r.seqLen} | ${r.msPerStep} | ${r.tokensPerSec} | ${(r.peakBytes / 1e6).toFixed(1)} |`);
  for (const f of failures) console.log(`- not measured: ${f}`);
}
