// Speed benchmark: ms/step, tokens/s and peak tensor bytes of a training step, per backend, for LoRA and for full
// fine-tuning, on stated model sizes (src/core/bench.ts measures). Never a test: quote medians and ratios.
// Beside each of our Node rows it times the same model and step in PyTorch (scripts/bench_torch.py, CPU, one thread)
// when /usr/bin/python3 has torch, right after ours, and prints ours ÷ PyTorch in tokens/s: the ratio comes from one
// run. Node rows also report CPU time per step (the process's user + system time), the steadier comparison on a
// shared machine. --browser adds the page's own engine in headless Chromium (bench.html; webgpu, webgl, wasm).
//   npm run bench [-- --json] [--steps 12] [--backends wasm,cpu] [--sizes tiny-world,ref-0.8M[,gpt-135M,llama-135M]] [--no-torch]
//                 [--browser [--browser-backends webgpu,webgl,wasm] [--browser-threads 1,2]]
//   npm run -s bench -- --gpu [...]: WebGPU through Dawn in Node beside PyTorch CUDA (scripts/bench-gpu.ts says how)

import { spawnSync } from 'node:child_process';
import { initBackend } from '../src/core/backend';
import { benchRow, BENCH_WARMUP, type BenchRow } from '../src/core/bench';
import type { Backend } from '../src/core/config';
import { browserBench } from './bench-browser';

const argv = process.argv.slice(2);
const opt = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : d);
const json = argv.includes('--json');
if (argv.includes('--gpu')) await import('./bench-gpu'); // runs the GPU bench and exits
const STEPS = Number(opt('steps', '12'));

interface Row extends BenchRow {
  torchMsPerStep?: number;
  torchTokensPerSec?: number;
  torchCpuMsPerStep?: number;
  ratio?: number;
  cpuRatio?: number;
}

const PYTHON = '/usr/bin/python3'; // Debian's, with python3-torch; not a pyenv python earlier on PATH
const noTorch = argv.includes('--no-torch');
const hasTorch = !noTorch && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
interface TorchRow {
  msPerStep: number;
  tokensPerSec: number;
  cpuMsPerStep: number;
}
const torchCache = new Map<string, TorchRow>();
/**
 * PyTorch's median ms/step and tokens/s for one size, method and thread count (timed once each, then reused). Its
 * thread count is the BLAS pool's too (bench_torch.py sets OPENBLAS_NUM_THREADS before torch loads).
 */
function torchRow(size: string, method: string, threads = 1): TorchRow | undefined {
  const key = `${size}/${method}/${threads}`;
  if (!torchCache.has(key)) {
    const r = spawnSync(
      PYTHON,
      [
        'scripts/bench_torch.py',
        '--steps',
        String(STEPS),
        '--sizes',
        size,
        '--methods',
        method,
        '--threads',
        String(threads),
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`scripts/bench_torch.py failed (${r.status}): ${r.stderr}`);
    torchCache.set(key, JSON.parse(r.stdout).rows[0]);
  }
  return torchCache.get(key);
}
/** Puts PyTorch's figures and the ratios on one of our rows (the CPU-time ratio where our CPU time was measured). */
function besideTorch(row: Row, pt: TorchRow) {
  Object.assign(row, {
    torchMsPerStep: pt.msPerStep,
    torchTokensPerSec: pt.tokensPerSec,
    torchCpuMsPerStep: pt.cpuMsPerStep,
    ratio: +(row.tokensPerSec / pt.tokensPerSec).toFixed(3),
    cpuRatio: row.cpuMsPerStep ? +(pt.cpuMsPerStep / row.cpuMsPerStep).toFixed(3) : undefined,
  });
}
const cpuClock = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const rows: Row[] = [];
const failures: string[] = [];
const backends = opt('backends', 'wasm,cpu').split(',').filter(Boolean) as Backend[];
const sizes = opt('sizes', 'tiny-world,ref-0.8M').split(',');
for (const b of backends) {
  const rep = await initBackend(b);
  for (const size of sizes)
    for (const method of ['lora', 'full'] as const) {
      const steps = b === 'cpu' ? Math.min(STEPS, 4) : STEPS; // cpu is ~30x slower; fewer steps
      let row: Row;
      try {
        row = await benchRow(size, method, steps, rep.embedMode, cpuClock);
      } catch (e) {
        // e.g. full fine-tuning of a 135M model needs more than wasm32's 4 GB heap: refused with its estimate
        failures.push(`${b} ${size} ${method}: ${(e as Error).message}`);
        console.error(`${b} ${size} ${method}: failed: ${(e as Error).message}`);
        continue;
      }
      const pt = hasTorch ? torchRow(size, method) : undefined;
      if (pt) besideTorch(row, pt);
      rows.push(row);
      if (!json)
        console.error(
          `${b} ${size} ${method}: ${row.msPerStep.toFixed(0)} ms/step${pt ? `, PyTorch ${pt.msPerStep} ms/step` : ''}`,
        );
    }
}
if (argv.includes('--browser')) {
  // SwiftShader is a CPU: fewer steps there
  // wasm in the page on 1 and 2 threads (the threaded build; docs/ARCHITECTURE.md)
  const got = await browserBench(
    opt('browser-backends', 'webgpu,webgl,wasm').split(','),
    sizes,
    Math.min(STEPS, 6),
    opt('browser-threads', '1,2').split(',').map(Number),
  );
  // the page's wasm rows beside PyTorch on as many threads (wall-clock ratio: the page's CPU time is not measured)
  for (const row of got.rows as Row[]) {
    const threads = /^wasm, (\d+) thread/.exec(row.backend)?.[1];
    const pt = hasTorch && threads ? torchRow(row.size, row.method, Number(threads)) : undefined;
    if (pt) besideTorch(row, pt);
  }
  rows.push(...got.rows);
  failures.push(...got.failures);
}

if (json)
  console.log(
    JSON.stringify(
      {
        steps: STEPS,
        warmupExcluded: BENCH_WARMUP,
        torch: hasTorch
          ? 'PyTorch, CPU, 1 thread (scripts/bench_torch.py); Chromium wasm rows beside PyTorch on as many threads'
          : noTorch
            ? 'off (--no-torch)'
            : 'not found',
        rows,
        failures,
      },
      null,
      2,
    ),
  );
else {
  const x = (v: number | undefined) => (v !== undefined ? `${v.toFixed(2)}×` : '–');
  console.log(
    '| backend | model | method | params (trainable) | batch × seq | ms/step (median) | tokens/s | CPU ms/step | peak tensor MB | PyTorch ms/step (CPU ms) | ours ÷ PyTorch, tokens/s (by CPU time) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows)
    console.log(
      `| ${r.backend} | ${r.size} | ${r.method} | ${r.params.toLocaleString('en-US')} (${r.trainable.toLocaleString('en-US')}) | ${r.batch} × ${r.seqLen} | ${r.msPerStep} | ${r.tokensPerSec} | ${r.cpuMsPerStep ?? '–'} | ${(r.peakBytes / 1e6).toFixed(1)} | ${r.torchMsPerStep ?? '–'} (${r.torchCpuMsPerStep ?? '–'}) | ${x(r.ratio)} (${x(r.cpuRatio)}) |`,
    );
  // the second step's memory by part (src/core/train/memory.ts), and LoRA's peak as a share of full fine-tuning's
  const mb = (b: number) => (b / 1e6).toFixed(1);
  console.log(
    '\n| backend | model | method | weights MB (training) | optimizer MB | snapshots, other MB | activations MB | gradients MB | working MB | peak MB | LoRA ÷ full, peak |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const m = r.memory;
    if (!m) continue;
    const full = rows.find((o) => o.backend === r.backend && o.size === r.size && o.method === 'full');
    const share = r.method === 'lora' && full?.memory ? `${(m.peak / full.memory.peak).toFixed(2)}×` : '–';
    console.log(
      `| ${r.backend} | ${r.size} | ${r.method} | ${mb(m.frozenWeights + m.trainableWeights)} (${mb(m.trainableWeights)}) | ${mb(m.optimizerState)} | ${mb(m.copies)} | ${mb(m.activations)} | ${mb(m.gradients)} | ${mb(m.temporaries)} | ${mb(m.peak)} | ${share} |`,
    );
  }
  if (!hasTorch)
    console.log(noTorch ? '(no PyTorch anchor: --no-torch)' : `(no PyTorch anchor: ${PYTHON} cannot import torch)`);
  for (const f of failures) console.log(`- not measured: ${f}`);
}
