// `npm run -s bench -- --gpu`: the training step on WebGPU, timed where a GPU is, beside PyTorch on CUDA.
// WebGPU comes from Dawn (Chromium's WebGPU) in Node through dawn.node, the binary of npm's `webgpu` package; it
// is not a dependency (18 MB): give its path (--dawn FILE or DAWN_NODE), install it without saving
// (npm i --no-save webgpu@0.3.8), or let scripts/gpu/pack.sh bring it with everything a GPU machine without Node
// needs. For each size (default: the shipped small-world shape and SmolLM2-135M's Llama shape, LoRA) it prints
// ms/step, tokens/s, the GPU compute dispatches, queue submits and buffer read-backs (mapAsync) per step, and the
// adapter that ran them; then PyTorch on the same shapes (CUDA when torch sees one, else one CPU thread).
//   npm run -s bench -- --gpu [--sizes small-world,llama-135M] [--methods lora] [--steps 12] [--dawn FILE] [--json]
//                           [--out FILE: the JSON written there too]
// Without a GPU, Dawn finds SwiftShader (a CPU Vulkan) if told where it is, which proves the script, not the speed:
//   LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json npm run -s bench -- --gpu

import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const argv = process.argv.slice(2);
const opt = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : d);
const json = argv.includes('--json');
const STEPS = Number(opt('steps', '12'));
const SIZES = opt('sizes', 'small-world,llama-135M').split(',');
const METHODS = opt('methods', 'lora').split(',') as ('lora' | 'full')[];
const require = createRequire(import.meta.url);

/** dawn.node's path: --dawn, DAWN_NODE, or the `webgpu` package if it is installed. */
function dawnPath(): string {
  const given = opt('dawn', process.env.DAWN_NODE ?? '');
  if (given) return path.resolve(given);
  try {
    const pkg = path.dirname(require.resolve('webgpu/package.json'));
    for (const f of [
      `dist/${process.platform}-${process.arch}.dawn.node`,
      `dist/${process.platform}-${process.arch}/dawn.node`,
    ])
      if (existsSync(path.join(pkg, f))) return path.join(pkg, f);
  } catch {
    // not installed
  }
  throw new Error(
    'No dawn.node (WebGPU for Node): pass --dawn FILE, set DAWN_NODE, or run "npm i --no-save webgpu@0.3.8" (an 18 MB download, not a dependency of the project).',
  );
}

interface Counts {
  dispatches: number;
  submits: number;
  readBacks: number;
}
const counts: Counts = { dispatches: 0, submits: 0, readBacks: 0 };

/** Installs Dawn as navigator.gpu, with every dispatch, submit and mapAsync counted. Before tfjs-backend-webgpu loads. */
function installDawn(file: string) {
  if (!existsSync(file)) throw new Error(`no dawn.node at ${file} (npm's webgpu package holds it under dist/)`);
  const { create, globals } = require(file) as { create(flags: string[]): unknown; globals: Record<string, unknown> };
  Object.assign(globalThis, globals);
  const proto = (name: string) =>
    (globals[name] as { prototype: Record<string, (...a: unknown[]) => unknown> }).prototype;
  const wrap = (name: string, method: string, key: keyof Counts) => {
    const p = proto(name);
    const real = p[method];
    p[method] = function (this: unknown, ...a: unknown[]) {
      counts[key]++;
      return real.apply(this, a);
    };
  };
  wrap('GPUComputePassEncoder', 'dispatchWorkgroups', 'dispatches');
  wrap('GPUQueue', 'submit', 'submits');
  wrap('GPUBuffer', 'mapAsync', 'readBacks');
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });
}

interface GpuRow {
  size: string;
  method: string;
  params: number;
  batch: number;
  seqLen: number;
  msPerStep: number;
  tokensPerSec: number;
  peakMB: number;
  perStep: Counts; // medians over the timed steps
  torch?: { device: string; msPerStep: number; tokensPerSec: number };
  ratio?: number; // ours ÷ PyTorch, tokens/s
}

async function main() {
  installDawn(dawnPath());
  // loaded after navigator.gpu exists: tfjs-backend-webgpu registers only if it does
  const { initBackend } = await import('../src/core/backend');
  const { benchRow, BENCH_SIZES, BENCH_WARMUP, median } = await import('../src/core/bench');
  const { probeGpu } = await import('../src/api/gpu-probe');
  const a = (await probeGpu()).adapter;
  const adapter = a ? [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') : 'no adapter';
  const unknown = SIZES.filter((s) => !(s in BENCH_SIZES));
  if (unknown.length > 0)
    throw new Error(`no bench size ${unknown.join(', ')}: the sizes are ${Object.keys(BENCH_SIZES).join(', ')}`);
  const rep = await initBackend('webgpu');
  if (rep.backend !== 'webgpu')
    throw new Error(`WebGPU did not start: ${rep.attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ')}`);
  if (!json) console.error(`WebGPU through Dawn on ${adapter}`);
  const rows: GpuRow[] = [];
  const failures: string[] = [];
  for (const size of SIZES)
    for (const method of METHODS) {
      const per: Counts[] = [];
      let last = { ...counts };
      try {
        const r = await benchRow(size, method, STEPS, rep.embedMode, undefined, () => {
          per.push({
            dispatches: counts.dispatches - last.dispatches,
            submits: counts.submits - last.submits,
            readBacks: counts.readBacks - last.readBacks,
          });
          last = { ...counts };
        });
        const timed = per.slice(BENCH_WARMUP);
        const med = (k: keyof Counts) => median(timed.map((c) => c[k]));
        rows.push({
          size,
          method,
          params: r.params,
          batch: r.batch,
          seqLen: r.seqLen,
          msPerStep: r.msPerStep,
          tokensPerSec: r.tokensPerSec,
          peakMB: +(r.peakBytes / 1e6).toFixed(1),
          perStep: { dispatches: med('dispatches'), submits: med('submits'), readBacks: med('readBacks') },
        });
        if (!json) console.error(`${size} ${method}: ${r.msPerStep} ms/step`);
      } catch (e) {
        failures.push(`${size} ${method}: ${(e as Error).message}`);
      }
    }
  // PyTorch on the same shapes: CUDA where torch sees a GPU, else the CPU anchor (one thread)
  const py = process.env.PYTHON ?? '/usr/bin/python3';
  const cuda = spawnSync(py, ['-c', 'import torch; print(torch.cuda.is_available())'], { encoding: 'utf8' });
  const device = cuda.stdout?.trim() === 'True' ? 'cuda' : 'cpu';
  let torchDevice = 'not run';
  if (cuda.status === 0) {
    const r = spawnSync(
      py,
      [
        'scripts/bench_torch.py',
        '--steps',
        String(STEPS),
        '--sizes',
        SIZES.join(','),
        '--methods',
        METHODS.join(','),
        '--device',
        device,
      ],
      { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } },
    );
    if (r.status !== 0) failures.push(`PyTorch (${device}): ${r.stderr.trim().split('\n').pop()}`);
    else {
      const out = JSON.parse(r.stdout) as {
        device: string;
        rows: { size: string; method: string; msPerStep: number; tokensPerSec: number }[];
      };
      torchDevice = device === 'cuda' ? `CUDA, ${out.device}` : 'CPU, one thread';
      for (const row of rows) {
        const t = out.rows.find((o) => o.size === row.size && o.method === row.method);
        if (!t) continue;
        row.torch = { device: torchDevice, msPerStep: t.msPerStep, tokensPerSec: t.tokensPerSec };
        row.ratio = +(row.tokensPerSec / t.tokensPerSec).toFixed(3);
      }
    }
  } else failures.push(`PyTorch: ${py} could not import torch`);

  const result = { adapter, steps: STEPS, warmupExcluded: BENCH_WARMUP, torch: torchDevice, rows, failures };
  const out = opt('out', '');
  if (out) writeFileSync(out, JSON.stringify(result, null, 2));
  if (json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  console.log(
    `WebGPU (Dawn in Node) on ${adapter}; PyTorch: ${torchDevice}; medians of ${STEPS - BENCH_WARMUP} steps after ${BENCH_WARMUP} warm-up`,
  );
  console.log(
    '| model | method | params | batch × seq | ms/step | tokens/s | dispatches/step | submits/step | read-backs/step | peak tensor MB | PyTorch ms/step | ours ÷ PyTorch |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows)
    console.log(
      `| ${r.size} | ${r.method} | ${r.params.toLocaleString('en-US')} | ${r.batch} × ${r.seqLen} | ${r.msPerStep} | ${r.tokensPerSec} | ${r.perStep.dispatches} | ${r.perStep.submits} | ${r.perStep.readBacks} | ${r.peakMB} | ${r.torch?.msPerStep ?? '–'} | ${r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : '–'} |`,
    );
  for (const f of failures) console.log(`- not measured: ${f}`);
}

try {
  await main();
} catch (e) {
  console.error(`bench --gpu: ${(e as Error).message}`);
  process.exit(2);
}
// Dawn's device keeps the event loop alive
process.exit(0);
