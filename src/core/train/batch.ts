// Examples → tensors, and the seeded order in which the trainer sees them.

import * as tf from '@tensorflow/tfjs';
import type { Example } from '../data/types';
import { Rng } from '../rng';

export interface Batch {
  x: tf.Tensor2D; // [B, T] int32 inputs
  y: tf.Tensor1D; // [B*T] int32 next-token targets
  w: tf.Tensor1D; // [B*T] float32 loss weights (0 on padding and, usually, on prompt tokens)
  tokens: number; // real (unpadded) input tokens
  targets: number; // sum of the loss weights: how many target tokens the loss averages over
}

/** Pads to the longest example rounded up to 16 (few distinct shapes: WebGPU/WebGL compile per shape). */
export function makeBatch(examples: Example[], blockSize: number, padId = 0): Batch {
  const longest = Math.max(...examples.map((e) => e.ids.length - 1), 1);
  const T = Math.min(blockSize, Math.ceil(longest / 16) * 16);
  const B = examples.length;
  const x = new Int32Array(B * T).fill(padId);
  const y = new Int32Array(B * T).fill(padId);
  const w = new Float32Array(B * T);
  let tokens = 0;
  let targets = 0;
  examples.forEach((e, b) => {
    const n = Math.min(T, e.ids.length - 1);
    tokens += n;
    for (let t = 0; t < n; t++) {
      x[b * T + t] = e.ids[t];
      y[b * T + t] = e.ids[t + 1];
      w[b * T + t] = e.lossMask[t + 1];
      targets += w[b * T + t];
    }
  });
  return { x: tf.tensor2d(x, [B, T], 'int32'), y: tf.tensor1d(y, 'int32'), w: tf.tensor1d(w), tokens, targets };
}

export function disposeBatch(b: Batch) {
  tf.dispose([b.x, b.y, b.w]);
}

/** Shuffled passes over the training examples; optionally mixes in a share of general text (replay). */
export class BatchSampler {
  private order: number[] = [];
  private pos = 0;
  private drawn = 0;
  private readonly rng: Rng;

  constructor(
    private readonly train: Example[],
    private readonly batchSize: number,
    seed: number,
    private readonly general: Example[] = [],
    private readonly generalMix = 0,
  ) {
    this.rng = new Rng(seed);
  }

  /** Fractional epochs completed (training examples drawn / training-set size). */
  get epoch(): number {
    return this.drawn / this.train.length;
  }

  next(): Example[] {
    const nGeneral = this.general.length > 0 ? Math.round(this.batchSize * this.generalMix) : 0;
    const out: Example[] = [];
    for (let i = 0; i < this.batchSize - nGeneral; i++) {
      if (this.pos >= this.order.length) {
        this.order = this.rng.shuffle([...this.train.keys()]);
        this.pos = 0;
      }
      out.push(this.train[this.order[this.pos++]]);
      this.drawn++;
    }
    for (let i = 0; i < nGeneral; i++) out.push(this.general[this.rng.int(this.general.length)]);
    return out;
  }
}
