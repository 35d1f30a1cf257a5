// Per-kernel time and peak tensor bytes of one training step (forward + backward), to find what to fuse next.
//   npx tsx scripts/probes/profile-step.ts [--size tiny-world|small-world|ref-0.8M|llama-135M|…] [--method lora|full]
//     [--backend wasm|cpu] [--shapes]   (the sizes, batches and LoRA settings are the bench's: src/core/bench.ts)

import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/core/backend';
import { BENCH_SIZES } from '../../src/core/bench';
import { defaultConfig, type Backend } from '../../src/core/config';
import { logits, maskedCrossEntropy } from '../../src/core/model/gpt';
import { LoraSet } from '../../src/core/model/lora';
import { GPTModel } from '../../src/core/model/model';
import { Rng } from '../../src/core/rng';

const argv = process.argv.slice(2);
const opt = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : d);
const { arch, batch: B, lora: loraOver } = BENCH_SIZES[opt('size', 'tiny-world')];
const method = opt('method', 'lora');
const T = arch.blockSize;
const rep = await initBackend(opt('backend', 'wasm') as Backend);
const model = GPTModel.random(arch, 1);
const lora = method === 'lora' ? new LoraSet(arch, { ...defaultConfig().lora, ...loraOver }, 2) : null;
const vars = lora ? lora.variables() : Object.values(model.params);
Object.values(model.params).forEach((v) => (v.trainable = method === 'full'));
const rng = new Rng(3);
const ids = () => Array.from({ length: B * T }, () => rng.int(arch.vocabSize));
const x = tf.tensor2d(ids(), [B, T], 'int32');
const y = tf.tensor1d(ids(), 'int32');
const w = tf.ones([B * T]) as tf.Tensor1D;
const step = () => {
  const { value, grads } = tf.variableGrads(
    () => maskedCrossEntropy(logits(model.params, arch, x, { lora, training: true, embedMode: rep.embedMode }), y, w),
    vars,
  );
  tf.dispose([value, ...Object.values(grads)]);
};
for (let i = 0; i < 3; i++) step();
// wall time and this process's CPU time (user + system): on a shared machine the CPU time is the steadier figure
const times: number[] = [];
const cpu: number[] = [];
for (let i = 0; i < 7; i++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  step();
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
cpu.sort((a, b) => a - b);
const prof = await tf.profile(step);
const byName = new Map<string, { ms: number; n: number }>();
for (const k of prof.kernels) {
  const ms = await (k.kernelTimeMs as unknown as Promise<number> | number);
  const key =
    argv.includes('--shapes') && ['BatchMatMul', 'Identity', 'Transpose', 'Multiply', 'Add'].includes(k.name)
      ? `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('')}`
      : k.name;
  const e = byName.get(key) ?? { ms: 0, n: 0 };
  e.ms += typeof ms === 'number' ? ms : 0;
  e.n++;
  byName.set(key, e);
}
const total = [...byName.values()].reduce((s, e) => s + e.ms, 0);
console.log(
  `${opt('size', 'tiny-world')} ${method}: forward+backward median ${times[3].toFixed(0)} ms wall (min ${times[0].toFixed(0)}), ${cpu[3].toFixed(0)} ms CPU (min ${cpu[0].toFixed(0)}), kernels ${total.toFixed(0)} ms, peak ${(prof.peakBytes / 1e6).toFixed(1)} MB, ${prof.kernels.length} kernels`,
);
for (const [name, e] of [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 40))
  console.log(`${name.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms  ${String(e.n).padStart(5)}×`);
