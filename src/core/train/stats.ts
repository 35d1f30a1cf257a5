// The numbers read back from the device once per step: the loss and the global gradient norm, stacked so that one
// `await data()` brings both. The trainer and the backend proof share it, so the proof checks the trainer's path.

import * as tf from '@tensorflow/tfjs';

/** [loss, ‖g‖₂] where ‖g‖₂ is the L2 norm over every tensor in grads. */
export function lossAndGradNorm(loss: tf.Scalar, grads: tf.Tensor[]): tf.Tensor1D {
  return tf.tidy(() => {
    const squares = grads.map((g) => tf.sum(tf.square(g))); // one scalar per tensor
    const total = squares.length === 1 ? squares[0] : tf.addN(squares); // webgpu: see kernels/webgpu/addn.ts
    return tf.stack([loss, tf.sqrt(total)]) as tf.Tensor1D;
  });
}
