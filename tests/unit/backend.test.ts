// The backend proof and the WebGPU AddN fix, in Node. WebGPU itself runs in the browser tests; here a "broken"
// backend (cpu kernels, one of them returning zeros, the way webgpu's AddN did over 8+ inputs) must be refused by
// the training proof with a reason, and the trainer must call a zero loss a broken backend, never a divergence.

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, proofMismatch, proveTraining } from '../../src/core/backend';
import { DEFAULT_ARCH } from '../../src/core/config';
import { CharTokenizer } from '../../src/core/tokenizer/char';
import { lossAndGradNorm } from '../../src/core/train/stats';
import { Trainer } from '../../src/core/train/trainer';
import { sumInChunks } from '../../src/core/kernels/webgpu/addn';
import { registerZeroing } from '../helpers/backends';
import { TINY, normals, randomExamples, snapshot, tinyConfig, tinyModel } from '../helpers/tiny';

beforeAll(async () => {
  registerZeroing('zero-addn', 'AddN');
  registerZeroing('zero-pack', 'Pack');
  await initBackend('cpu');
});
afterAll(() => {
  tf.removeBackend('zero-addn');
  tf.removeBackend('zero-pack');
});

describe('summing many tensors in chunks (the WebGPU-safe AddN)', () => {
  it.each([2, 3, 7])(
    'equals tf.addN for 1..60 inputs at most %i at a time, and frees every partial sum',
    async (max) => {
      for (const n of [1, 2, 7, 8, 9, 16, 52, 60]) {
        const xs = Array.from({ length: n }, (_, i) => tf.tensor(normals(5, 100 + i), [5]));
        const before = tf.memory().numTensors;
        let calls = 0;
        const got = sumInChunks(
          xs,
          max,
          (part) => {
            expect(part.length).toBeLessThanOrEqual(max);
            calls++;
            return tf.addN(part);
          },
          (t) => t.dispose(),
        );
        expect(tf.memory().numTensors).toBe(before + 1); // only the result is new
        const want = tf.addN(xs);
        const [g, w] = [await got.data(), await want.data()];
        for (let i = 0; i < 5; i++) expect(g[i]).toBeCloseTo(w[i], 5);
        expect(calls).toBeGreaterThanOrEqual(1);
        tf.dispose([got, want, ...xs]);
      }
    },
  );

  it("the trainer's [loss, gradient norm] read-back over 52 tensors matches the sum done by hand", async () => {
    const grads = Array.from({ length: 52 }, (_, i) => tf.tensor(normals(3 + (i % 5), 7 + i), [3 + (i % 5)]));
    const byHand = Math.sqrt(
      (await Promise.all(grads.map(async (g) => Array.from(await g.data())))).reduce(
        (s, d) => s + d.reduce((a: number, x: number) => a + x * x, 0),
        0,
      ),
    );
    const stats = lossAndGradNorm(tf.scalar(1.25), grads);
    const [loss, norm] = await stats.data();
    expect(loss).toBe(1.25);
    expect(norm).toBeCloseTo(byHand, 4);
    tf.dispose([stats, ...grads]);
  });
});

describe('the training proof', () => {
  it('is deterministic and gives a real loss and gradient norm at the shipped size', async () => {
    const a = await proveTraining(DEFAULT_ARCH);
    const b = await proveTraining(DEFAULT_ARCH);
    expect(a.loss).toBe(b.loss);
    expect(a.gradNorm).toBe(b.gradNorm);
    expect(a.loss).toBeGreaterThan(Math.log(DEFAULT_ARCH.vocabSize) - 0.2); // a fresh model is near uniform
    expect(a.loss).toBeLessThan(Math.log(DEFAULT_ARCH.vocabSize) + 0.2);
    expect(a.gradNorm).toBeGreaterThan(0);
  });

  it('wasm agrees with cpu within the stated tolerance', async () => {
    const cpu = await proveTraining(DEFAULT_ARCH);
    const report = await initBackend('wasm');
    // in Node: the single-threaded build, with our kernels started on its memory (the page says both)
    expect(report.wasmThreads).toBe(1);
    expect(report.wasmKernels).toBe(true);
    const wasm = await proveTraining(DEFAULT_ARCH);
    await initBackend('cpu');
    expect(proofMismatch(wasm, cpu)).toBeNull();
  });

  it('names zeros, wrong numbers and non-finite numbers', () => {
    const ref = { loss: 4.6, gradNorm: 1.2, ms: 1 };
    expect(proofMismatch({ loss: 0, gradNorm: 0, ms: 1 }, ref)).toMatch(/read back zeros/);
    expect(proofMismatch({ loss: 4.6, gradNorm: 0, ms: 1 }, ref)).toMatch(/read back zeros/);
    expect(proofMismatch({ loss: 4.7, gradNorm: 1.2, ms: 1 }, ref)).toMatch(/wrong numbers.*loss 4\.7/);
    expect(proofMismatch({ loss: NaN, gradNorm: 1.2, ms: 1 }, ref)).toMatch(/non-finite/);
    expect(proofMismatch({ loss: 4.6001, gradNorm: 1.201, ms: 1 }, ref)).toBeNull();
  });

  it('auto refuses a backend whose AddN returns zeros, says why, and runs on the next one', async () => {
    const report = await initBackend('auto', { candidates: ['zero-addn', 'wasm', 'cpu'] });
    expect(report.backend).toBe('wasm');
    expect(report.fellBack).toBe(true);
    const [refused] = report.attempts;
    expect(refused.backend).toBe('zero-addn');
    expect(refused.ok).toBe(false);
    expect(refused.reason).toMatch(/training step read back zeros/);
    expect(refused.msPerStep).toBeGreaterThan(0);
    expect(report.attempts.map((a) => a.backend)).toEqual(['zero-addn', 'wasm']); // cpu is not needed once wasm works
    await initBackend('cpu');
  });
});

describe('a zero loss is a broken backend, not a divergence', () => {
  it('ends the run as backend_error on its first step, with no update and a message naming the backend', async () => {
    await tf.setBackend('zero-pack'); // tf.stack, which carries the loss read-back, returns zeros
    const config = tinyConfig({ train: { method: 'lora', maxSteps: 6, batchSize: 4, lr: 1e-2 } });
    const { model, lora, view } = tinyModel(config, 1);
    const before = await snapshot(lora!.variables());
    const trainer = new Trainer({
      model: view,
      config,
      data: { train: randomExamples(8, TINY, 1), val: [] },
      tokenizer: new CharTokenizer(),
      backend: 'zero-pack',
      totalParams: model.numParams,
    });
    const h = await trainer.run();
    expect(h.end.reason).toBe('backend_error');
    expect(h.end.message).toMatch(/loss of 0 .*zero-pack backend is returning wrong numbers/);
    expect(h.steps.length).toBe(0);
    expect(await snapshot(lora!.variables())).toEqual(before);
    model.dispose();
    lora!.dispose();
    await tf.setBackend('cpu');
  });
});
