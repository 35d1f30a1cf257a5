// Elastic weight consolidation (Kirkpatrick et al., 2017): before fine-tuning, estimate how much each weight
// matters to what the model already does, then make moving the important ones expensive:
//   loss + λ/2 · Σᵢ F̂ᵢ (θᵢ − θ*ᵢ)²
// θ* are the weights at the start of the run. F is the diagonal of the empirical Fisher information, the mean
// squared gradient of the next-token loss over batches of general text (the pretraining corpus, never the held-out
// text forgetting is measured on). F̂ = F / mean(F) over every weight, so λ reads like an L2 pull towards θ* that
// is stronger where the old text cares and weaker where it does not. Weights opened later (gradual unfreezing)
// have no estimate and no penalty.

import * as tf from '@tensorflow/tfjs';

export class Ewc {
  private constructor(
    private readonly anchors: Map<tf.Variable, tf.Tensor>,
    private readonly importance: Map<tf.Variable, tf.Tensor>,
    readonly lambda: number,
  ) {}

  /** Fisher diagonal of `vars` from the gradients of `lossOf` on each batch; anchors are copies of `vars` now. */
  static async estimate<B>(
    vars: tf.Variable[],
    batches: B[],
    lossOf: (b: B) => tf.Scalar,
    lambda: number,
  ): Promise<Ewc> {
    if (batches.length === 0)
      throw new Error('train.ewc needs general text to estimate which weights matter, and there is none');
    const sums = new Map<tf.Variable, tf.Tensor>(vars.map((v) => [v, tf.keep(tf.zerosLike(v))]));
    for (const b of batches) {
      const { value, grads } = tf.variableGrads(() => lossOf(b), vars);
      for (const v of vars) {
        const g = grads[v.name];
        if (!g) continue;
        const next = tf.keep(tf.tidy(() => tf.add(sums.get(v)!, tf.square(g))));
        sums.get(v)!.dispose();
        sums.set(v, next);
      }
      tf.dispose([value, ...Object.values(grads)]);
    }
    const total = tf.tidy(() => tf.addN([...sums.values()].map((s) => tf.sum(s))));
    const count = vars.reduce((n, v) => n + v.size, 0);
    const mean = (await total.data())[0] / batches.length / count || 1;
    total.dispose();
    const importance = new Map<tf.Variable, tf.Tensor>();
    for (const [v, s] of sums) {
      importance.set(v, tf.keep(tf.tidy(() => tf.div(s, batches.length * mean))));
      s.dispose();
    }
    const anchors = new Map<tf.Variable, tf.Tensor>(vars.map((v) => [v, tf.keep(v.clone())]));
    return new Ewc(anchors, importance, lambda);
  }

  /** λ/2 · Σ F̂ (θ − θ*)² over the estimated weights among `vars` (call inside the gradient tape). */
  penalty(vars: tf.Variable[]): tf.Scalar {
    const terms = vars.flatMap((v) => {
      const f = this.importance.get(v);
      return f ? [tf.sum(tf.mul(f, tf.square(tf.sub(v, this.anchors.get(v)!))))] : [];
    });
    if (terms.length === 0) return tf.scalar(0);
    return tf.mul(tf.addN(terms), this.lambda / 2);
  }

  /** Mean F̂ of one variable (tests: the estimate is there and normalised). */
  async meanImportance(v: tf.Variable): Promise<number> {
    const f = this.importance.get(v);
    if (!f) return NaN;
    const m = tf.mean(f);
    const [value] = await m.data();
    m.dispose();
    return value;
  }

  dispose() {
    tf.dispose([...this.anchors.values(), ...this.importance.values()]);
  }
}
