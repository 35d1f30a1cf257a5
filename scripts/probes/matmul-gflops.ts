// How near wasm's limit the matrix products of a training step run: the GFLOP/s the step's products achieve (tf.profile
// of one forward + backward pass: each BatchMatMul/_FusedMatMul's time and its 2·m·n·k from the shapes) beside the
// GFLOP/s the same kernel reaches on large square products (the best this backend does on this machine, one thread),
// the SIMD128 ceiling of this engine (simd-peak.ts beside this file: register-only f32x4 arithmetic) and PyTorch's
// on the same squares (one OpenBLAS thread), and the share of the pass's wall time (unprofiled,
// median of 3) spent outside the products. A product's time includes the transposes our BatchMatMul makes first.
// The optimizer's update is not in the pass (its share is in the bench's ms/step against this).
//   npx tsx scripts/probes/matmul-gflops.ts [--sizes tiny-world,small-world,ref-0.8M[,llama-135M]] [--methods lora,full]

import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/core/backend';
import { BENCH_SIZES, median } from '../../src/core/bench';
import { defaultConfig } from '../../src/core/config';
import { logits, maskedCrossEntropy } from '../../src/core/model/gpt';
import { LoraSet } from '../../src/core/model/lora';
import { GPTModel } from '../../src/core/model/model';
import { Rng } from '../../src/core/rng';
import { simdPeak } from './simd-peak';

const argv = process.argv.slice(2);
const opt = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : d);
const SIZES = opt('sizes', 'tiny-world,small-world,ref-0.8M').split(',');
const METHODS = opt('methods', 'lora,full').split(',') as ('lora' | 'full')[];
const MATMULS = new Set(['BatchMatMul', '_FusedMatMul']);

const rep = await initBackend('wasm');

/** Median ms of fn over reps after a warm-up. */
async function timeIt(fn: () => tf.Tensor, reps = 5): Promise<number> {
  for (let i = 0; i < 2; i++) {
    const t = fn();
    await t.data();
    t.dispose();
  }
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const t = fn();
    await t.data();
    ms.push(performance.now() - t0);
    t.dispose();
  }
  return median(ms);
}

// the kernel's best: large square products, one thread
const squares = [256, 512, 1024];
const peak: Record<number, number> = {};
for (const n of squares) {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  peak[n] = (2 * n ** 3) / (await timeIt(() => tf.matMul(a, b))) / 1e6;
  tf.dispose([a, b]);
}
const best = Math.max(...Object.values(peak));
const torch = spawnSync(
  '/usr/bin/python3',
  [
    '-c',
    `import time, torch, statistics, json
out = {}
for n in ${JSON.stringify(squares)}:
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(2): a @ b
    ts = []
    for _ in range(5):
        t0 = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t0)
    out[n] = 2 * n ** 3 / statistics.median(ts) / 1e9
print(json.dumps(out))`,
  ],
  { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } },
);
const torchPeak = torch.status === 0 ? (JSON.parse(torch.stdout) as Record<string, number>) : null;
const ceiling = simdPeak();
console.log(
  `SIMD128 ceiling, one thread: ${ceiling.muladd.toFixed(1)} GFLOP/s as f32x4 mul and add, ${ceiling.maddUnfused.toFixed(1)} as dependent mul-then-add pairs, ${ceiling.relaxed === null ? 'relaxed_madd refused' : `${ceiling.relaxed.toFixed(1)} as relaxed_madd`}\n`,
);
console.log('| square product n×n·n×n | ours (wasm, mm_packed on one thread), GFLOP/s | PyTorch (OpenBLAS, 1 thread), GFLOP/s |');
console.log('| --- | --- | --- |');
for (const n of squares) console.log(`| ${n} | ${peak[n].toFixed(1)} | ${torchPeak ? torchPeak[n].toFixed(1) : '–'} |`);

/** 2·m·n·k of one product from its input and output shapes (batch dims broadcast). */
function flops(inputs: number[][], out: number[]): number {
  const [a, b] = inputs;
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  const lead = (s: number[]) => (s.length > 2 ? size(s.slice(0, -2)) : 1);
  const k = Math.sqrt((size(a) * size(b) * lead(out)) / (size(out) * lead(a) * lead(b)));
  return 2 * size(out) * k;
}

console.log(
  `\n| model | method | batch × seq | pass ms | products ms | products GFLOP/s | ÷ best square (${best.toFixed(1)}) | ÷ SIMD128 mul+add ceiling (${ceiling.muladd.toFixed(1)}) | pass outside the products |`,
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const size of SIZES)
  for (const method of METHODS) {
    const { arch, batch: B, lora: loraOver } = BENCH_SIZES[size];
    const T = arch.blockSize;
    const model = GPTModel.random(arch, 1);
    const lora = method === 'lora' ? new LoraSet(arch, { ...defaultConfig().lora, ...loraOver }, 2) : null;
    Object.values(model.params).forEach((v) => (v.trainable = method === 'full'));
    const vars = lora ? lora.variables() : Object.values(model.params);
    const rng = new Rng(3);
    const ids = () => Array.from({ length: B * T }, () => rng.int(arch.vocabSize));
    const x = tf.tensor2d(ids(), [B, T], 'int32');
    const y = tf.tensor1d(ids(), 'int32');
    const w = tf.ones([B * T]) as tf.Tensor1D;
    const pass = () => {
      const { value, grads } = tf.variableGrads(
        () =>
          maskedCrossEntropy(logits(model.params, arch, x, { lora, training: true, embedMode: rep.embedMode }), y, w),
        vars,
      );
      tf.dispose([value, ...Object.values(grads)]);
    };
    pass();
    const walls: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      pass();
      walls.push(performance.now() - t0);
    }
    const wall = median(walls); // unprofiled: the profiler's own bookkeeping would be counted otherwise
    const prof = await tf.profile(pass);
    let mmMs = 0;
    let mmFlops = 0;
    for (const k of prof.kernels) {
      if (!MATMULS.has(k.name)) continue;
      const ms = (await (k.kernelTimeMs as unknown as Promise<number> | number)) as number;
      mmMs += ms;
      mmFlops += flops(k.inputShapes, k.outputShapes[0]);
    }
    const g = mmFlops / mmMs / 1e6;
    console.log(
      `| ${size} | ${method} | ${B} × ${T} | ${wall.toFixed(0)} | ${mmMs.toFixed(0)} | ${g.toFixed(1)} | ${(g / best).toFixed(2)}× | ${(g / ceiling.muladd).toFixed(2)}× | ${(100 * Math.max(0, 1 - mmMs / wall)).toFixed(0)}% |`,
    );
    tf.dispose([x, y, w]);
    model.dispose();
    lora?.dispose();
  }
