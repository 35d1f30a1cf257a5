// The wasm speed patches (src/core/wasm-matmul.ts) change how matmul and sum are computed, never what:
// every transpose combination, batched matmuls, leading-axis sums and a whole model's gradients agree with cpu.

import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend';
import { logits, maskedCrossEntropy } from '../../src/core/model/gpt';
import { makeBatch } from '../../src/core/train/batch';
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
    ];
    for (const [i, [sa, sb, ta, tb]] of cases.entries()) {
      const a = rand(sa, i * 2 + 1);
      const b = rand(sb, i * 2 + 2);
      const f = () => [tf.matMul(tf.tensor(a.data).reshape(a.shape) as tf.Tensor2D, tf.tensor(b.data).reshape(b.shape) as tf.Tensor2D, ta, tb)] as tf.Tensor[];
      const [w] = await on('wasm', f);
      const [c] = await on('cpu', f);
      expect(maxRelDiff(w, c), `case ${i}`).toBeLessThan(1e-5);
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

  it('a whole model: logits and every parameter gradient (full fine-tuning) match cpu', async () => {
    const grads = async (backend: 'wasm' | 'cpu') => {
      await initBackend(backend);
      const c = tinyConfig({ train: { method: 'full' } });
      const { model, lora, view } = tinyModel(c, 3, false);
      const vars = Object.values(model.params);
      vars.forEach((v) => (v.trainable = true));
      const b = makeBatch(randomExamples(3, c.model.arch, 5), c.model.arch.blockSize);
      const { value, grads } = tf.variableGrads(() => maskedCrossEntropy(logits(model.params, c.model.arch, b.x, { lora, embedMode: view.embedMode }), b.y, b.w), vars);
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
