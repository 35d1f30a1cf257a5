// Optimizers written out so every detail is visible and controllable: AdamW with decoupled weight decay
// (Loshchilov & Hutter 2019) and explicit epsilon, and SGD with momentum (L2 weight decay).
// Each variable may carry its own learning-rate multiplier (layer-wise decay / discriminative rates).

import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../config';
import { bytesOf } from './memory';

export interface OptimizerParam {
  variable: tf.Variable;
  lrScale: number; // multiplies the scheduled learning rate
  decay: boolean; // apply weight decay (not to biases, LayerNorm or LoRA... see freeze.ts)
}

export class Optimizer {
  private readonly m = new Map<tf.Variable, tf.Variable>();
  private readonly v = new Map<tf.Variable, tf.Variable>();
  /** Updates each variable has had: a block opened late (gradual unfreezing) starts its own bias correction at 1. */
  private readonly t = new Map<tf.Variable, number>();

  constructor(
    private readonly c: Pick<TrainConfig, 'optimizer' | 'beta1' | 'beta2' | 'epsilon' | 'momentum' | 'weightDecay'>,
  ) {}

  private slot(map: Map<tf.Variable, tf.Variable>, p: tf.Variable): tf.Variable {
    let s = map.get(p);
    if (!s) {
      s = tf.variable(tf.zerosLike(p), false);
      map.set(p, s);
    }
    return s;
  }

  /** One update. grads[i] belongs to params[i]; lr is the scheduled rate for this step. */
  apply(params: OptimizerParam[], grads: tf.Tensor[], lr: number) {
    const { beta1: b1, beta2: b2, epsilon, momentum, weightDecay } = this.c;
    params.forEach(({ variable: p, lrScale, decay }, i) => {
      const t = (this.t.get(p) ?? 0) + 1;
      this.t.set(p, t);
      const bc1 = 1 - b1 ** t;
      const bc2 = 1 - b2 ** t;
      const g = grads[i];
      const rate = lr * lrScale;
      const wd = decay ? weightDecay : 0;
      tf.tidy(() => {
        if (this.c.optimizer === 'adamw') {
          const m = this.slot(this.m, p);
          const v = this.slot(this.v, p);
          m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
          v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
          // p ← p − rate·( m̂ / (√v̂ + ε) + wd·p )
          const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), epsilon));
          p.assign(tf.sub(wd > 0 ? tf.mul(p, 1 - rate * wd) : p, tf.mul(update, rate)));
        } else {
          const buf = this.slot(this.m, p);
          const gd = wd > 0 ? tf.add(g, tf.mul(p, wd)) : g;
          buf.assign(tf.add(tf.mul(buf, momentum), gd));
          p.assign(tf.sub(p, tf.mul(buf, rate)));
        }
      });
    });
  }

  /**
   * Moments and step count, in the order of `vars`, for a resumable run (scripts/maintain/pretrain.ts, where every
   * variable trains every step, so one count serves all: the largest).
   */
  async exportState(vars: tf.Variable[]): Promise<{ t: number; m: Float32Array[]; v: Float32Array[] }> {
    const read = async (map: Map<tf.Variable, tf.Variable>, p: tf.Variable) =>
      (await this.slot(map, p).data()) as Float32Array;
    return {
      t: Math.max(0, ...vars.map((p) => this.t.get(p) ?? 0)),
      m: await Promise.all(vars.map((p) => read(this.m, p))),
      v: await Promise.all(vars.map((p) => read(this.v, p))),
    };
  }

  importState(vars: tf.Variable[], s: { t: number; m: Float32Array[]; v: Float32Array[] }) {
    vars.forEach((p, i) => {
      this.t.set(p, s.t);
      this.slot(this.m, p).assign(tf.tensor(s.m[i], p.shape));
      this.slot(this.v, p).assign(tf.tensor(s.v[i], p.shape));
    });
  }

  /** Bytes of the state held now (two moments per AdamW variable, one buffer per SGD one). */
  stateBytes(): number {
    return bytesOf([...this.m.values(), ...this.v.values()]);
  }

  /** Forgets the state of variables that stopped training (or all), freeing their memory. */
  dispose() {
    for (const s of [...this.m.values(), ...this.v.values()]) s.dispose();
    this.m.clear();
    this.v.clear();
    this.t.clear();
  }
}
