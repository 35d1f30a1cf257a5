// The wasm speed patches (src/core/kernels/wasm/matmul.ts) change how matmul and sum are computed, never what:
// every transpose combination, batched matmuls, leading-axis sums and a whole model's gradients agree with cpu.
// The fused ops (src/core/model/fused.ts) match autodiff of the same math composed from standard ops, on cpu and
// wasm, and finite differences, on odd shapes.

import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend';
import {
  causalAttention,
  crossEntropy,
  gatherFrozen,
  gelu,
  layerNorm,
  linear,
  loraAdd,
  matMulTFrozen,
  repeatKv,
  residual,
  rmsNorm,
  rope,
  swiglu,
} from '../../src/core/model/fused';
import { logits, maskedCrossEntropy } from '../../src/core/model/gpt';
import { makeBatch } from '../../src/core/train/batch';
import { instantiate, isSharedMemory } from '../../src/core/kernels/wasm/kernels';
import { Trainer } from '../../src/core/train/trainer';
import { CharTokenizer } from '../../src/core/tokenizer/char';
import { randomExamples, tinyConfig, tinyModel } from '../helpers/tiny';
import { Rng } from '../../src/core/rng';

function rand(shape: number[], seed: number): { shape: number[]; data: Float32Array } {
  const r = new Rng(seed);
  return { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.normal()) };
}

/** Runs f on a backend and returns plain arrays. */
async function on(backend: 'wasm' | 'cpu', f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await initBackend(backend);
  const ts = f();
  const out = await Promise.all(ts.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(ts);
  return out;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

describe('wasm kernel patches agree with cpu', () => {
  it('matmul: every transpose combination, 2-D and batched (incl. a batch of 1)', async () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[33, 17], [17, 9], false, false],
      [[17, 33], [17, 9], true, false],
      [[33, 17], [9, 17], false, true],
      [[17, 33], [9, 17], true, true],
      [[6, 12, 5], [6, 5, 7], false, false],
      [[6, 5, 12], [6, 5, 7], true, false],
      [[6, 12, 5], [6, 7, 5], false, true],
      [[1, 12, 5], [1, 5, 7], false, false],
      [[6, 9, 12], [6, 9, 5], true, false],
      [[64, 36], [64, 40], true, false], // transposes in whole 4 × 4 blocks
      [[3, 13, 18], [3, 9, 18], false, true],
      // skinny (min(M, N) <= 8, LoRA's rank): our own kernel, every transpose combination, widths not multiples of 4
      [[37, 20], [20, 4], false, false],
      [[37, 20], [37, 3], true, false],
      [[37, 5], [37, 22], true, false],
      [[37, 20], [6, 20], false, true],
      [[20, 7], [9, 20], true, true],
      [[3, 2], [2, 5], false, false],
      [[37, 4], [22, 4], false, true], // K = rank: d(xA)·Aᵀ
      [[37, 3], [3, 22], false, false],
      // mm_packed (the other 2-D products) on small K: M not a multiple of the tile's 4 rows, N not of its 8 columns
      [[10, 9], [9, 9], false, false],
      [[13, 40], [21, 40], false, true],
    ];
    for (const [i, [sa, sb, ta, tb]] of cases.entries()) {
      const a = rand(sa, i * 2 + 1);
      const b = rand(sb, i * 2 + 2);
      const f = () =>
        [
          tf.matMul(
            tf.tensor(a.data).reshape(a.shape) as tf.Tensor2D,
            tf.tensor(b.data).reshape(b.shape) as tf.Tensor2D,
            ta,
            tb,
          ),
        ] as tf.Tensor[];
      const [w] = await on('wasm', f);
      const [c] = await on('cpu', f);
      expect(maxRelDiff(w, c), `case ${i}`).toBeLessThan(1e-5);
    }
  });

  it('matmul over long K (our mm_packed): within float32 summation error of a float64 product, on the step’s shapes', async () => {
    // The cpu backend sums in float64, so past K ≈ 200 any float32 kernel (XNNPACK too) sits ~1e-5 from it. Here the
    // reference is float64 and each entry may be off by 2·sqrt(K)·2⁻²⁴·Σ|a·b|, a few times the typical rounding of
    // K float32 additions; a wrong element or a lost block of K would be off by about |a·b| itself.
    const cases: [number, number, number, boolean, boolean][] = [
      [35, 300, 21, false, false], // K past one block of 256, M % 4 = 3, N % 8 = 5
      [300, 35, 21, true, true], // Aᵀ (transposed first), Bᵀ read in place
      [130, 513, 19, false, true], // three blocks of K, the last of one row
      [2048, 128, 384, false, false], // small-world's step: x·W over 2,048 tokens
      [2048, 384, 128, false, true], // dy·Wᵀ
      [128, 2048, 384, true, false], // dW = xᵀ·dy: eight blocks of K
    ];
    for (const [i, [M, K, N, ta, tb]] of cases.entries()) {
      const a = rand(ta ? [K, M] : [M, K], 100 + i);
      const b = rand(tb ? [N, K] : [K, N], 200 + i);
      const A = (r: number, k: number) => a.data[ta ? k * M + r : r * K + k];
      const B = (k: number, c: number) => b.data[tb ? c * K + k : k * N + c];
      const [w] = await on('wasm', () => [
        tf.matMul(tf.tensor2d(a.data, a.shape as [number, number]), tf.tensor2d(b.data, b.shape as [number, number]), ta, tb),
      ]);
      let worst = 0;
      for (let r = 0; r < M; r += r < 8 ? 1 : 37)
        for (let c = 0; c < N; c++) {
          let exact = 0;
          let abs = 0;
          for (let k = 0; k < K; k++) {
            exact += A(r, k) * B(k, c);
            abs += Math.abs(A(r, k) * B(k, c));
          }
          worst = Math.max(worst, Math.abs(w[r * N + c] - exact) / (2 * Math.sqrt(K) * 2 ** -24 * abs));
        }
      expect(worst, `case ${i}: ${M}×${K}×${N}`).toBeLessThan(1);
    }
  });

  it('sum over axis 0 of a matrix (with and without keepDims) and over other axes', async () => {
    const x = rand([257, 31], 9);
    const f = () => {
      const t = tf.tensor2d(x.data, [257, 31]);
      const outs = [tf.sum(t, 0), tf.sum(t, 0, true), tf.sum(t, -1), tf.sum(t)];
      return outs;
    };
    const w = await on('wasm', f);
    const c = await on('cpu', f);
    w.forEach((v, i) => expect(maxRelDiff(v, c[i]), `output ${i}`).toBeLessThan(1e-5));
    await initBackend('wasm');
    expect(tf.sum(tf.zeros([4, 3]), 0, true).shape).toEqual([1, 3]);
    expect(tf.sum(tf.zeros([4, 3]), 0).shape).toEqual([3]);
  });

  it('split of a matrix into column blocks (float and int), and other axes through the original kernel', async () => {
    const x = rand([7, 10], 21);
    const ids = Int32Array.from({ length: 70 }, (_, i) => (i * 7919) % 97);
    const f = () => [
      ...tf.split(tf.tensor2d(x.data, [7, 10]), [3, 5, 2], 1),
      ...tf.split(tf.tensor2d(x.data, [7, 10]), 2, -1),
      ...tf.split(tf.tensor2d(ids, [7, 10], 'int32'), [4, 6], 1),
      ...tf.split(tf.tensor2d(x.data, [7, 10]), [3, 4], 0),
      ...tf.split(tf.tensor3d(x.data, [7, 2, 5]), [2, 3], 2),
    ];
    const w = await on('wasm', f);
    const c = await on('cpu', f);
    expect(w.length).toBe(c.length);
    w.forEach((v, i) => expect(Array.from(v), `output ${i}`).toEqual(Array.from(c[i])));
  });

  it('gather of table rows (float and int), and other gathers through the original kernel', async () => {
    const x = rand([9, 6], 31);
    const ids = [8, 0, 3, 3, 7, 1, 0];
    const f = () => [
      tf.gather(tf.tensor2d(x.data, [9, 6]), tf.tensor1d(ids, 'int32')),
      tf.gather(
        tf.tensor2d(
          Int32Array.from(x.data, (v) => Math.round(v * 10)),
          [9, 6],
          'int32',
        ),
        tf.tensor1d(ids, 'int32'),
      ),
      tf.gather(tf.tensor2d(x.data, [9, 6]), tf.tensor1d([5, 2], 'int32'), 1),
      tf.gather(tf.tensor3d(x.data, [9, 3, 2]), tf.tensor1d(ids, 'int32')),
    ];
    const w = await on('wasm', f);
    const c = await on('cpu', f);
    w.forEach((v, i) => expect(Array.from(v), `output ${i}`).toEqual(Array.from(c[i])));
  });

  it('a whole model: logits and every parameter gradient (full fine-tuning) match cpu', async () => {
    const grads = async (backend: 'wasm' | 'cpu') => {
      await initBackend(backend);
      const c = tinyConfig({ train: { method: 'full' } });
      const { model, lora, view } = tinyModel(c, 3, false);
      const vars = Object.values(model.params);
      vars.forEach((v) => (v.trainable = true));
      const b = makeBatch(randomExamples(3, c.model.arch, 5), c.model.arch.blockSize);
      const { value, grads } = tf.variableGrads(
        () =>
          maskedCrossEntropy(logits(model.params, c.model.arch, b.x, { lora, embedMode: view.embedMode }), b.y, b.w),
        vars,
      );
      const out = [await value.data(), ...(await Promise.all(vars.map((v) => grads[v.name].data())))] as Float32Array[];
      tf.dispose([value, ...Object.values(grads), b.x, b.y, b.w]);
      model.dispose();
      return out;
    };
    const w = await grads('wasm');
    const c = await grads('cpu');
    w.forEach((v, i) => expect(maxRelDiff(v, c[i]), `tensor ${i}`).toBeLessThan(1e-4));
  });
});

// References for the fused ops (src/core/model/fused.ts): the same math composed from standard ops, differentiated
// by tfjs itself, on the cpu backend.
const GC = Math.sqrt(2 / Math.PI);
const ref = {
  layerNorm: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
  },
  gelu: (x: tf.Tensor) =>
    tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), GC)))),
  attention: (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, B: number, T: number, nh: number) => {
    const C = q.shape[1]!;
    const hd = C / nh;
    const heads = (t: tf.Tensor) => t.reshape([B, T, nh, hd]).transpose([0, 2, 1, 3]);
    const future = tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)); // 1 above the diagonal
    const s = tf.add(tf.div(tf.matMul(heads(q), heads(k), false, true), Math.sqrt(hd)), tf.mul(future, -1e9));
    return tf
      .matMul(tf.softmax(s), heads(v))
      .transpose([0, 2, 1, 3])
      .reshape([B * T, C]);
  },
  /** transformers' apply_rotary_pos_emb written out: x·cos + rotate_half(x)·sin, positions 0..T-1. */
  rope: (x: tf.Tensor, b: number, t: number, nh: number, theta: number) => {
    const hd = x.shape[1]! / nh;
    const ang = Array.from({ length: t }, (_, p) =>
      Array.from({ length: hd }, (_, i) => p / Math.pow(theta, (2 * (i % (hd / 2))) / hd)),
    );
    const cos = tf.tensor(ang.flat().map(Math.cos), [1, t, 1, hd]);
    const sin = tf.tensor(ang.flat().map(Math.sin), [1, t, 1, hd]);
    const x4 = x.reshape([b, t, nh, hd]);
    const x1 = tf.slice(x4, [0, 0, 0, 0], [b, t, nh, hd / 2]);
    const x2 = tf.slice(x4, [0, 0, 0, hd / 2], [b, t, nh, hd / 2]);
    return tf.add(tf.mul(x4, cos), tf.mul(tf.concat([tf.neg(x2), x1], -1), sin)).reshape(x.shape);
  },
  crossEntropy: (lg: tf.Tensor, t: tf.Tensor, w: tf.Tensor) => {
    const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(lg), tf.oneHot(t as tf.Tensor1D, lg.shape[1]!).toFloat()), -1));
    return tf.div(tf.sum(tf.mul(nll, w)), tf.maximum(tf.sum(w), 1));
  },
};

interface FusedCase {
  name: string;
  inputs: { shape: number[]; data: Float32Array | Int32Array; int?: boolean; fixed?: boolean }[]; // fixed: data, not differentiated
  fused: (...xs: tf.Tensor[]) => tf.Tensor;
  reference: (...xs: tf.Tensor[]) => tf.Tensor;
}

/** Value and gradients of Σ(op(xs) ⊙ R) with respect to the float inputs (R fixed random: every output element counts). */
function valueAndGrads(c: FusedCase, op: FusedCase['fused']): tf.Tensor[] {
  const xs = c.inputs.map((i) => tf.tensor(i.data, i.shape, i.int ? 'int32' : 'float32'));
  const floatIdx = c.inputs.map((i, n) => (i.int || i.fixed ? -1 : n)).filter((n) => n >= 0);
  const f = (...fl: tf.Tensor[]) => {
    const args = xs.map((x, n) => (floatIdx.includes(n) ? fl[floatIdx.indexOf(n)] : x));
    const out = op(...args);
    const r = rand(out.shape, 99);
    return tf.sum(tf.mul(out, tf.tensor(r.data, out.shape)));
  };
  const { value, grads } = tf.valueAndGrads(f)(floatIdx.map((n) => xs[n]));
  return [op(...xs), value, ...grads];
}

function ints(n: number, max: number, seed: number): Int32Array {
  const r = new Rng(seed);
  return Int32Array.from({ length: n }, () => r.int(max));
}

const B = 2,
  T = 5,
  NH = 3,
  C = 6; // odd sizes: 5 positions, 3 heads of width 2 (tfjs ops on every backend)
const attentionCase = (b: number, t: number, nh: number, c: number, seed: number): FusedCase => ({
  name: `causalAttention B=${b} T=${t} heads=${nh} C=${c}${(c / nh) % 4 === 0 ? ' (wasm: attention.c)' : ''}`,
  inputs: [rand([b * t, c], seed), rand([b * t, c], seed + 1), rand([b * t, c], seed + 2)],
  fused: (q, k, v) => causalAttention(q as tf.Tensor2D, k as tf.Tensor2D, v as tf.Tensor2D, b, t, nh),
  reference: (q, k, v) => ref.attention(q, k, v, b, t, nh),
});
/** Grouped-query attention: nKv k/v heads, each read by nh/nKv consecutive query heads; the reference repeats them. */
const gqaCase = (b: number, t: number, nh: number, c: number, nKv: number, seed: number): FusedCase => {
  const hd = c / nh;
  const repeat = (x: tf.Tensor) =>
    tf.concat(
      Array.from({ length: nh }, (_, h) => tf.slice(x, [0, Math.floor(h / (nh / nKv)) * hd], [b * t, hd])),
      1,
    );
  return {
    name: `causalAttention B=${b} T=${t} heads=${nh} C=${c}, ${nKv} k/v head${nKv > 1 ? 's' : ''}${hd % 4 === 0 ? ' (wasm: attention.c reads them in place)' : ''}`,
    inputs: [rand([b * t, c], seed), rand([b * t, nKv * hd], seed + 1), rand([b * t, nKv * hd], seed + 2)],
    fused: (q, k, v) => causalAttention(q as tf.Tensor2D, k as tf.Tensor2D, v as tf.Tensor2D, b, t, nh),
    reference: (q, k, v) => ref.attention(q, repeat(k), repeat(v), b, t, nh),
  };
};
const fusedCases: FusedCase[] = [
  {
    name: 'layerNorm [7, 5]',
    inputs: [rand([7, 5], 1), rand([5], 2), rand([5], 3)],
    fused: (x, g, b) => layerNorm(x as tf.Tensor2D, g, b, 1e-5),
    reference: ref.layerNorm,
  },
  {
    name: 'layerNorm [7, 12] (wasm: kernels.c)',
    inputs: [rand([7, 12], 41), rand([12], 42), rand([12], 43)],
    fused: (x, g, b) => layerNorm(x as tf.Tensor2D, g, b, 1e-5),
    reference: ref.layerNorm,
  },
  {
    name: 'gelu [7, 9] (wasm: kernels.c, a partial last group of 4)',
    inputs: [rand([7, 9], 4)],
    fused: (x) => gelu(x),
    reference: ref.gelu,
  },
  { name: 'gelu [3] (tfjs ops everywhere)', inputs: [rand([3], 44)], fused: (x) => gelu(x), reference: ref.gelu },
  {
    name: 'gelu of large |x| [8]',
    inputs: [{ shape: [8], data: Float32Array.from([-60, -12, -3, -0.5, 0.5, 3, 12, 60]) }],
    fused: (x) => gelu(x),
    reference: ref.gelu,
  },
  {
    name: 'linear [7, 5] × [5, 3]',
    inputs: [rand([7, 5], 5), rand([5, 3], 6), rand([3], 7)],
    fused: (x, w, b) => linear(x as tf.Tensor2D, w, b),
    reference: (x, w, b) => tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b),
  },
  {
    name: 'loraAdd [7, 5] + s·([7, 4] × [4, 2] × [2, 5])',
    inputs: [rand([7, 5], 51), rand([7, 4], 52), rand([4, 2], 53), rand([2, 5], 54)],
    fused: (out, x, a, b) => loraAdd(out as tf.Tensor2D, x as tf.Tensor2D, a, b, 1.5),
    reference: (out, x, a, b) =>
      tf.add(out, tf.mul(tf.matMul(tf.matMul(x as tf.Tensor2D, a as tf.Tensor2D), b as tf.Tensor2D), 1.5)),
  },
  {
    name: 'linear without a bias [7, 5] × [5, 3] (the Llama layout)',
    inputs: [rand([7, 5], 61), rand([5, 3], 62)],
    fused: (x, w) => linear(x as tf.Tensor2D, w, null),
    reference: (x, w) => tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
  },
  {
    name: 'rmsNorm [7, 6]',
    inputs: [rand([7, 6], 63), rand([6], 64)],
    fused: (x, g) => rmsNorm(x as tf.Tensor2D, g, 1e-5),
    reference: (x, g) => tf.mul(tf.div(x, tf.sqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-5))), g),
  },
  {
    name: 'swiglu [7, 5]',
    inputs: [rand([7, 5], 65), rand([7, 5], 66)],
    fused: (g, u) => swiglu(g as tf.Tensor2D, u as tf.Tensor2D),
    reference: (g, u) => tf.mul(tf.mul(g, tf.sigmoid(g)), u),
  },
  {
    name: 'rope [2*5, 3 heads × 4], theta 10000',
    inputs: [rand([10, 12], 67)],
    fused: (x) => rope(x as tf.Tensor2D, 2, 5, 3, 10000),
    reference: (x) => ref.rope(x, 2, 5, 3, 10000),
  },
  {
    name: 'repeatKv [6, 2 kv heads × 3] → 3 query heads each',
    inputs: [rand([6, 6], 68)],
    fused: (x) => repeatKv(x as tf.Tensor2D, 2, 3),
    reference: (x) =>
      tf.concat(
        [0, 0, 0, 1, 1, 1].map((h) => tf.slice(x, [0, h * 3], [6, 3])),
        1,
      ),
  },
  {
    name: 'residual [7, 5]',
    inputs: [rand([7, 5], 8), rand([7, 5], 9)],
    fused: (a, b) => residual(a as tf.Tensor2D, b as tf.Tensor2D),
    reference: (a, b) => tf.add(a, b),
  },
  attentionCase(B, T, NH, C, 10),
  attentionCase(3, 7, 2, 8, 20), // head width 4, T not a multiple of 4
  attentionCase(2, 37, 3, 24, 30), // head width 8
  gqaCase(2, 11, 6, 24, 2, 31), // 3 query heads per k/v head, width 4
  gqaCase(2, 7, 4, 16, 1, 32), // one k/v head for all (multi-query)
  gqaCase(1, 13, 9, 576, 3, 33), // SmolLM2-135M's heads: 9 of width 64 over 3 k/v heads
  gqaCase(2, 5, 4, 8, 2, 34), // width 2: tfjs ops, k and v repeated first
  {
    name: 'crossEntropy, large logits [5, 8]',
    inputs: [
      { shape: [5, 8], data: Float32Array.from(rand([5, 8], 15).data, (v) => v * 30) },
      { shape: [5], data: ints(5, 8, 16), int: true },
      { shape: [5], data: Float32Array.from([1, 1, 1, 1, 1]), fixed: true },
    ],
    fused: (lg, t, w) => crossEntropy(lg as tf.Tensor2D, t as tf.Tensor1D, w as tf.Tensor1D),
    reference: ref.crossEntropy,
  },
  {
    name: 'crossEntropy [7, 11], some weights 0',
    inputs: [
      rand([7, 11], 13),
      { shape: [7], data: ints(7, 11, 14), int: true },
      { shape: [7], data: Float32Array.from([1, 0, 1, 1, 0, 1, 1]), fixed: true },
    ],
    fused: (lg, t, w) => crossEntropy(lg as tf.Tensor2D, t as tf.Tensor1D, w as tf.Tensor1D),
    reference: ref.crossEntropy,
  },
];

describe('fused ops with hand-written gradients (model/fused.ts)', () => {
  it.each(fusedCases.map((c) => [c.name, c] as const))(
    '%s: value and gradients on wasm and cpu match autodiff of the composed ops',
    async (_, c) => {
      const want = await on('cpu', () => valueAndGrads(c, c.reference));
      for (const backend of ['cpu', 'wasm'] as const) {
        const got = await on(backend, () => valueAndGrads(c, c.fused));
        got.forEach((v, i) => expect(maxRelDiff(v, want[i]), `${backend} output ${i}`).toBeLessThan(1e-4));
      }
    },
  );

  it.each(fusedCases.map((c) => [c.name, c] as const))(
    '%s: gradients match central finite differences (cpu and wasm)',
    async (_, c) => {
      const floatInputs = c.inputs.filter((i) => !i.int && !i.fixed);
      const loss = (pert: number, at: number, d: number) =>
        tf.tidy(() => {
          const xs = c.inputs.map((i, n) => {
            const data = i.data.slice();
            if (n === pert) data[at] += d;
            return tf.tensor(data, i.shape, i.int ? 'int32' : 'float32');
          });
          const out = c.fused(...xs);
          return tf.sum(tf.mul(out, tf.tensor(rand(out.shape, 99).data, out.shape))).dataSync()[0];
        });
      for (const backend of ['cpu', 'wasm'] as const) {
        const [, , ...grads] = await on(backend, () => valueAndGrads(c, c.fused));
        await initBackend(backend);
        floatInputs.forEach((inp, fi) => {
          const n = c.inputs.indexOf(inp);
          const h = 1e-2;
          for (const at of [0, Math.floor(inp.data.length / 2), inp.data.length - 1]) {
            const fd = (loss(n, at, h) - loss(n, at, -h)) / (2 * h);
            expect(
              Math.abs(fd - grads[fi][at]),
              `${backend} input ${n}[${at}]: fd ${fd} vs ${grads[fi][at]}`,
            ).toBeLessThan(2e-2 * (1 + Math.abs(fd)));
          }
        });
      }
    },
  );
});

describe('training on wasm through every kernel of ours', () => {
  it.each(['lora', 'full'] as const)('keeps tensors and bytes flat from step 10 to step 200 (%s)', async (method) => {
    await initBackend('wasm');
    const c = tinyConfig({
      model: { backend: 'wasm' },
      train: { method, maxSteps: 200, batchSize: 4, lr: 1e-3, freeze: { embeddings: method === 'lora' } },
      eval: { everySteps: 5, maxBatches: 1 },
    }); // the first eval (best-weights snapshot) before step 10
    const { model, lora, view } = tinyModel(c, 7);
    const data = { train: randomExamples(8, c.model.arch, 8), val: randomExamples(4, c.model.arch, 9) };
    const h = await new Trainer({
      model: view,
      config: c,
      data,
      tokenizer: new CharTokenizer(),
      backend: 'wasm',
      totalParams: model.numParams,
    }).run();
    expect(h.steps.length).toBe(200);
    for (const at of [99, 199]) {
      expect(h.steps[at].numTensors).toBe(h.steps[9].numTensors);
      expect(h.steps[at].numBytes).toBe(h.steps[9].numBytes);
    }
    expect(h.steps[199].loss).toBeLessThan(h.steps[0].loss);
    lora?.dispose();
    model.dispose();
  });
});

describe('our module on the threaded build’s shared memory (kernels/wasm/threads.ts in the page)', () => {
  it('picks the build that imports that kind of memory, and both builds compute the same bits', () => {
    const plain = new WebAssembly.Memory({ initial: 32, maximum: 256 });
    const shared = new WebAssembly.Memory({ initial: 32, maximum: 256, shared: true });
    expect(isSharedMemory(plain)).toBe(false);
    expect(isSharedMemory(shared)).toBe(true);
    const a = instantiate(plain);
    const b = instantiate(shared);
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
    // the same inputs at the same offsets in both memories: LayerNorm, GELU and a skinny matmul, forward
    const N = 37;
    const C = 28; // the LayerNorm kernel wants rows of a multiple of 4 (the model's widths are)
    const x = rand([N, C], 11).data;
    const g = rand([C], 12).data;
    const bias = rand([C], 13).data;
    const w = rand([C, 3], 14).data;
    const at = { x: 0, g: 4 * N * C, b: 4 * (N * C + C), y: 4 * (N * C + 2 * C) } as const;
    const statsAt = at.y + 4 * N * C;
    const geluAt = statsAt + 4 * 2 * N;
    const wAt = geluAt + 4 * N * C;
    const mmAt = wAt + 4 * C * 3;
    const outputs: Float32Array[][] = [];
    for (const [mem, k] of [
      [plain, a!],
      [shared, b!],
    ] as const) {
      const f = new Float32Array(mem.buffer);
      f.set(x, at.x / 4);
      f.set(g, at.g / 4);
      f.set(bias, at.b / 4);
      f.set(w, wAt / 4);
      k.ln_fwd(at.x, at.g, at.b, at.y, statsAt, N, C, 1e-5);
      k.gelu_fwd(at.x, geluAt, N * C);
      k.mm_skinny(at.x, wAt, mmAt, N, C, 3, 0);
      outputs.push([
        f.slice(at.y / 4, at.y / 4 + N * C),
        f.slice(geluAt / 4, geluAt / 4 + N * C),
        f.slice(mmAt / 4, mmAt / 4 + N * 3),
      ]);
    }
    for (let i = 0; i < 3; i++) expect(Array.from(outputs[1][i])).toEqual(Array.from(outputs[0][i]));
    // and the numbers are right: row 0 of the LayerNorm has mean 0 before its gain (checked against plain JS)
    const row = Array.from(x.slice(0, C));
    const mean = row.reduce((s, v) => s + v, 0) / C;
    const sd = Math.sqrt(row.reduce((s, v) => s + (v - mean) ** 2, 0) / C + 1e-5);
    for (let j = 0; j < C; j++) expect(outputs[0][0][j]).toBeCloseTo(((row[j] - mean) / sd) * g[j] + bias[j], 4);
    let dot = 0;
    for (let j = 0; j < C; j++) dot += row[j] * w[j * 3];
    expect(outputs[0][2][0]).toBeCloseTo(dot, 4);
  });
});

describe('linear with a frozen weight (model/fused.ts)', () => {
  it('gives x its gradient dy·Wᵀ and makes none for the frozen W and b (cpu and wasm)', async () => {
    const [x0, w0, b0, r0] = [rand([7, 5], 61), rand([5, 3], 62), rand([3], 63), rand([7, 3], 64)];
    const run = () => {
      const x = tf.variable(tf.tensor(x0.data, x0.shape), true);
      const w = tf.variable(tf.tensor(w0.data, w0.shape), false);
      const b = tf.variable(tf.tensor(b0.data, b0.shape), false);
      const r = tf.tensor(r0.data, r0.shape);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(linear(x as tf.Tensor2D, w, b), r)) as tf.Scalar);
      expect(Object.keys(grads)).toEqual([x.name]);
      const out = [value, grads[x.name], tf.matMul(r as tf.Tensor2D, w as tf.Tensor2D, false, true)];
      const ref = tf.sum(tf.mul(tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b), r));
      tf.dispose([x, w, b, r]);
      return [...out, ref];
    };
    for (const backend of ['cpu', 'wasm'] as const) {
      const [value, gx, want, ref] = await on(backend, run);
      expect(maxRelDiff(gx, want), backend).toBeLessThan(1e-5);
      expect(maxRelDiff(value, ref), backend).toBeLessThan(1e-5);
    }
  });
  it('the frozen tied head x·Wᵀ and the frozen embedding lookup give the same loss and dx as tf.matMul and tf.gather (cpu and wasm)', async () => {
    const [x0, w0, r0] = [rand([7, 5], 71), rand([11, 5], 72), rand([7, 11], 73)];
    const ids = [3, 0, 10, 3, 7, 1, 2];
    const run = () => {
      const x = tf.variable(tf.tensor(x0.data, x0.shape), true);
      const w = tf.variable(tf.tensor(w0.data, w0.shape), false);
      const r = tf.tensor(r0.data, r0.shape);
      const idx = tf.tensor1d(ids, 'int32');
      // the lookup feeds the head, so dx flows through matMulTFrozen while gatherFrozen adds a constant
      const f = (head: (a: tf.Tensor2D) => tf.Tensor, emb: () => tf.Tensor) =>
        tf.variableGrads(() => tf.sum(tf.mul(head(tf.add(x, emb()) as tf.Tensor2D), r)) as tf.Scalar);
      const ours = f(
        (a) => matMulTFrozen(a, w as tf.Tensor2D),
        () => gatherFrozen(w, idx),
      );
      const ref = f(
        (a) => tf.matMul(a, w as tf.Tensor2D, false, true),
        () => tf.gather(w, idx),
      );
      expect(Object.keys(ours.grads)).toEqual([x.name]);
      const out = [ours.value, ours.grads[x.name], ref.value, ref.grads[x.name]];
      tf.dispose([x, w, r, idx]);
      return out;
    };
    for (const backend of ['cpu', 'wasm'] as const) {
      const [v, gx, vRef, gRef] = await on(backend, run);
      expect(maxRelDiff(v, vRef), backend).toBeLessThan(1e-5);
      expect(maxRelDiff(gx, gRef), backend).toBeLessThan(1e-5);
    }
  });
});
