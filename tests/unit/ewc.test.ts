// Elastic weight consolidation: the importance estimate is normalised, the penalty is λ/2 Σ F̂ (θ − θ*)², and its
// gradient is λ F̂ (θ − θ*), checked against finite differences.

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend';
import { Ewc } from '../../src/core/train/ewc';

describe('Ewc', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  // a "model": y = x·W + b, loss = mean squared error on fixed batches; W and b are the weights that matter
  const W = tf.variable(
    tf.tensor2d([
      [0.5, -0.2],
      [0.1, 0.3],
      [-0.4, 0.2],
    ]),
    true,
    'ewc-W',
  );
  const b = tf.variable(tf.tensor1d([0.05, -0.1]), true, 'ewc-b');
  const batches = [1, 2, 3].map((k) => ({
    x: tf.keep(tf.randomNormal([4, 3], 0, 1, 'float32', k)),
    y: tf.keep(tf.randomNormal([4, 2], 0, 1, 'float32', 10 + k)),
  }));
  const lossOf = (bt: { x: tf.Tensor; y: tf.Tensor }) =>
    tf.mean(tf.square(tf.sub(tf.add(tf.matMul(bt.x, W), b), bt.y))) as tf.Scalar;

  it('normalises the importance to a mean of 1 over every weight, and costs nothing at the start', async () => {
    const ewc = await Ewc.estimate([W, b], batches, lossOf, 3);
    const weighted =
      ((await ewc.meanImportance(W)) * W.size + (await ewc.meanImportance(b)) * b.size) / (W.size + b.size);
    expect(weighted).toBeCloseTo(1, 5);
    expect(tf.tidy(() => ewc.penalty([W, b]).dataSync()[0])).toBeCloseTo(0, 8);
    ewc.dispose();
  });

  it('penalises a move by λ/2 Σ F̂ δ², and its gradient matches finite differences', async () => {
    const lambda = 3;
    const ewc = await Ewc.estimate([W, b], batches, lossOf, lambda);
    const start = W.clone();
    W.assign(
      tf.add(
        start,
        tf.tensor2d([
          [0.1, 0],
          [0, -0.2],
          [0.05, 0.3],
        ]),
      ),
    );
    const p = () => tf.tidy(() => ewc.penalty([W, b]).dataSync()[0]);
    expect(p()).toBeGreaterThan(0);
    const { grads } = tf.variableGrads(() => ewc.penalty([W, b]), [W]);
    const g = grads[W.name].arraySync() as number[][];
    const eps = 1e-3;
    const base = W.arraySync() as number[][];
    for (const [i, j] of [
      [0, 0],
      [1, 1],
      [2, 1],
    ]) {
      const at = (d: number) => {
        const m = base.map((r) => [...r]);
        m[i][j] += d;
        W.assign(tf.tensor2d(m));
        return p();
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      expect(Math.abs(fd - g[i][j])).toBeLessThan(1e-3 * Math.max(1, Math.abs(fd)));
    }
    W.assign(start);
    start.dispose();
    tf.dispose(Object.values(grads));
    ewc.dispose();
  });

  it('refuses to estimate with no general text', async () => {
    await expect(Ewc.estimate([W], [], lossOf, 1)).rejects.toThrow(/train.ewc needs general text/);
  });
});
