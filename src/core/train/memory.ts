// Memory of one training step by part, measured with tfjs's own bookkeeping (tf.memory() and tf.profile's
// high-water mark), not estimated from shapes: what the run holds between steps (frozen and trainable weights,
// optimizer state, the run's copies) and what the step adds on top (activations kept for the backward pass,
// gradients, and the working memory of backward and the update). tfjs counts bytes per tensor object, so a view
// (reshape, clone) that shares its data counts again while both are alive: the figures are tfjs's, per backend.

import * as tf from '@tensorflow/tfjs';

export interface MemoryParts {
  frozenWeights: number; // weights that do not train (the base under LoRA, frozen layers)
  trainableWeights: number;
  optimizerState: number; // AdamW's two moments (SGD's momentum buffer)
  copies: number; // the run's own copies: rollback and best-weights snapshots, a KL base, EWC's anchors
  activations: number; // what the forward pass leaves for backward (measured when the loss is computed)
  gradients: number; // one per trainable weight
  temporaries: number; // the rest of the peak: backward's and the optimizer's working memory
  peak: number; // the most tensor bytes at any moment of the step
}

/** Bytes of a set of tensors, each counted once (a tensor may appear in two sets, e.g. a tied head). */
export function bytesOf(ts: Iterable<tf.Tensor>): number {
  let n = 0;
  for (const t of new Set(ts)) if (!t.isDisposed) n += t.size * (t.dtype === 'bool' ? 1 : 4);
  return n;
}

/** Watches one optimizer step: start() before its first micro-batch, forward() once each loss exists. */
export class StepMemory {
  private held = 0;
  private microStart = 0;
  private activations = 0;
  private peak = 0;

  start() {
    this.held = this.peak = tf.memory().numBytes;
  }
  /** Before each micro-batch's forward pass. */
  micro() {
    this.microStart = tf.memory().numBytes;
  }
  /** Called inside the gradient function once the loss is computed: every activation backward needs is alive. */
  forward() {
    this.activations = Math.max(this.activations, tf.memory().numBytes - this.microStart);
  }
  /** Runs f, raising the peak to the engine's high-water mark of tensor bytes while it ran. */
  async during<T extends tf.TensorContainer>(f: () => T): Promise<T> {
    const info = await tf.profile(f);
    this.peak = Math.max(this.peak, info.peakBytes);
    return info.result as T;
  }

  parts(w: { frozen: tf.Tensor[]; trainable: tf.Tensor[]; optimizerState: number; gradients: number }): MemoryParts {
    const frozenWeights = bytesOf(w.frozen);
    const trainableWeights = bytesOf(w.trainable);
    const rest = (n: number) => Math.max(0, n);
    return {
      frozenWeights,
      trainableWeights,
      optimizerState: w.optimizerState,
      copies: rest(this.held - frozenWeights - trainableWeights - w.optimizerState),
      activations: this.activations,
      gradients: w.gradients,
      temporaries: rest(this.peak - this.held - this.activations - w.gradients),
      peak: this.peak,
    };
  }
}
