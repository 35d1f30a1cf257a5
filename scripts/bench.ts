// Speed benchmark: ms/step, tokens/s and peak tensor bytes of a training step, per backend Node can run
// (cpu, wasm), for LoRA and for full fine-tuning, on stated model sizes. Never a test: quote medians and ratios.
// Beside each of our rows it times the same model and step in PyTorch (scripts/bench_torch.py, CPU, one thread) when
// /usr/bin/python3 has torch, right after ours, and prints ours ÷ PyTorch in tokens/s: the ratio comes from one run.
// Both engines also report CPU time per step (the process's user + system time): on a shared machine wall time
// stretches with everyone else's load, CPU time much less, so the CPU-time ratio is the steadier comparison.
//   npm run bench [-- --json] [--steps 12] [--backends wasm,cpu] [--sizes tiny-world,ref-0.8M] [--no-torch]

import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import { defaultConfig, mergeConfig, type Backend, type ModelArch } from '../src/core/config';
import type { Example } from '../src/core/data/types';
import { LoraSet } from '../src/core/model/lora';
import { GPTModel } from '../src/core/model/model';
import { Rng } from '../src/core/rng';
import { CharTokenizer } from '../src/core/tokenizer/char';
import { Trainer } from '../src/core/train/trainer';

const argv = process.argv.slice(2);
const opt = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : d);
const json = argv.includes('--json');
const STEPS = Number(opt('steps', '12'));
const WARMUP = 4; // first steps compile/allocate (wasm code tiers up over the first few steps); excluded from the median

// tiny-world: the built-in model. ref-0.8M: the model PLATFORM.md timed (PyTorch 75 ms/step, naive tfjs wasm 3,030 ms).
const SIZES: Record<string, { arch: ModelArch; batch: number }> = {
  'tiny-world': { arch: { vocabSize: 99, blockSize: 128, nLayer: 4, nHead: 4, nEmbd: 64, mlpRatio: 4, layerNormEps: 1e-5 }, batch: 16 },
  'ref-0.8M': { arch: { vocabSize: 99, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, mlpRatio: 4, layerNormEps: 1e-5 }, batch: 16 },
};

function examples(n: number, a: ModelArch, seed: number): Example[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const ids = Array.from({ length: a.blockSize + 1 }, () => rng.int(a.vocabSize));
    return { recordId: `b${i}`, ids, lossMask: ids.map(() => 1) };
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Row { backend: string; size: string; method: string; params: number; trainable: number; batch: number; seqLen: number; msPerStep: number; tokensPerSec: number; cpuMsPerStep: number; peakBytes: number; torchMsPerStep?: number; torchTokensPerSec?: number; torchCpuMsPerStep?: number; ratio?: number; cpuRatio?: number }

const PYTHON = '/usr/bin/python3'; // Debian's, with python3-torch; not a pyenv python earlier on PATH
const noTorch = argv.includes('--no-torch');
const hasTorch = !noTorch && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
interface TorchRow { msPerStep: number; tokensPerSec: number; cpuMsPerStep: number }
const torchCache = new Map<string, TorchRow>();
/** PyTorch's median ms/step and tokens/s for one size and method (timed once per size and method, then reused). */
function torchRow(size: string, method: string): TorchRow | undefined {
  const key = `${size}/${method}`;
  if (!torchCache.has(key)) {
    const r = spawnSync(PYTHON, ['scripts/bench_torch.py', '--steps', String(STEPS), '--sizes', size, '--methods', method, '--threads', '1'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`scripts/bench_torch.py failed (${r.status}): ${r.stderr}`);
    torchCache.set(key, JSON.parse(r.stdout).rows[0]);
  }
  return torchCache.get(key);
}
const rows: Row[] = [];
const backends = opt('backends', 'wasm,cpu').split(',') as Backend[];
const sizes = opt('sizes', 'tiny-world,ref-0.8M').split(',');

for (const b of backends) {
  const rep = await initBackend(b);
  for (const size of sizes) {
    const { arch, batch } = SIZES[size];
    for (const method of ['lora', 'full'] as const) {
      const steps = b === 'cpu' ? Math.min(STEPS, 4) : STEPS; // cpu is ~30x slower; fewer steps
      const config = (maxSteps: number) =>
        mergeConfig(defaultConfig(), {
          model: { name: 'random', arch, backend: b },
          train: { method, maxSteps, batchSize: batch, freeze: { embeddings: method === 'lora' } },
          eval: { everySteps: 1_000_000, general: false },
        });
      const model = GPTModel.random(arch, 1);
      const lora = method === 'lora' ? new LoraSet(arch, config(1).lora, 2) : null;
      const view = { params: model.params, arch, lora, embedMode: rep.embedMode };
      const trainer = (maxSteps: number) =>
        new Trainer({ model: view, config: config(maxSteps), data: { train: examples(batch * 4, arch, 3), val: examples(batch, arch, 4) }, tokenizer: new CharTokenizer(), backend: b, totalParams: model.numParams });
      // CPU time of each step: from one onStep to the next (the first from just before the run)
      const cpu: number[] = [];
      let c0 = process.cpuUsage();
      const h = await trainer(steps).run({
        onStep: () => {
          const u = process.cpuUsage(c0);
          cpu.push((u.user + u.system) / 1000);
          c0 = process.cpuUsage();
        },
      });
      // Peak tensor bytes: the engine's high-water mark (tf.profile) over two whole training steps (forward, backward,
      // gradient norm, rollback snapshot, AdamW), weights included; timed apart, as profiling slows every kernel.
      const peak = (await tf.profile(() => trainer(2).run().then(() => []))).peakBytes;
      const timed = h.steps.slice(Math.min(WARMUP, h.steps.length - 1));
      const ms = median(timed.map((s) => s.msPerStep));
      const cpuMs = median(cpu.slice(Math.min(WARMUP, cpu.length - 1)));
      const row: Row = { backend: b, size, method, params: model.numParams, trainable: h.trainableParams, batch, seqLen: arch.blockSize, msPerStep: +ms.toFixed(1), tokensPerSec: Math.round((batch * arch.blockSize * 1000) / ms), cpuMsPerStep: +cpuMs.toFixed(1), peakBytes: peak };
      const pt = hasTorch ? torchRow(size, method) : undefined;
      if (pt) Object.assign(row, { torchMsPerStep: pt.msPerStep, torchTokensPerSec: pt.tokensPerSec, torchCpuMsPerStep: pt.cpuMsPerStep, ratio: +(row.tokensPerSec / pt.tokensPerSec).toFixed(3), cpuRatio: +(pt.cpuMsPerStep / cpuMs).toFixed(3) });
      rows.push(row);
      if (!json) console.error(`${b} ${size} ${method}: ${ms.toFixed(0)} ms/step${pt ? `, PyTorch ${pt.msPerStep} ms/step` : ''}`);
      lora?.dispose();
      model.dispose();
    }
  }
}

if (json) console.log(JSON.stringify({ steps: STEPS, warmupExcluded: WARMUP, torch: hasTorch ? 'PyTorch, CPU, 1 thread (scripts/bench_torch.py)' : noTorch ? 'off (--no-torch)' : 'not found', rows }, null, 2));
else {
  const x = (v: number | undefined) => (v !== undefined ? `${v.toFixed(2)}×` : '–');
  console.log('| backend | model | method | params (trainable) | batch × seq | ms/step (median) | tokens/s | CPU ms/step | peak tensor MB | PyTorch ms/step (CPU ms) | ours ÷ PyTorch, tokens/s (by CPU time) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.backend} | ${r.size} | ${r.method} | ${r.params.toLocaleString('en-US')} (${r.trainable.toLocaleString('en-US')}) | ${r.batch} × ${r.seqLen} | ${r.msPerStep} | ${r.tokensPerSec} | ${r.cpuMsPerStep} | ${(r.peakBytes / 1e6).toFixed(1)} | ${r.torchMsPerStep ?? '–'} (${r.torchCpuMsPerStep ?? '–'}) | ${x(r.ratio)} (${x(r.cpuRatio)}) |`);
  if (!hasTorch) console.log(noTorch ? '(no PyTorch anchor: --no-torch)' : `(no PyTorch anchor: ${PYTHON} cannot import torch)`);
}
