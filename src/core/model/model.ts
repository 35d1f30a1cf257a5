// A GPT model instance: its architecture and its base weights as tf.Variables under GPT-2 names.
// Which variables train is decided by the trainer (train/freeze.ts), not here.

import * as tf from '@tensorflow/tfjs';
import type { ModelArch } from '../config';
import { countParams, initialValues, paramShapes } from './gpt';

let uid = 0;

export class GPTModel {
  readonly params: Record<string, tf.Variable> = {};

  /** values: every name from paramShapes(arch) with a Float32Array of the right size. */
  constructor(
    readonly arch: ModelArch,
    values: Map<string, Float32Array>,
  ) {
    const id = uid++;
    for (const [name, shape] of paramShapes(arch)) {
      const v = values.get(name);
      const size = shape.reduce((x, y) => x * y, 1);
      if (!v) throw new Error(`model weights: tensor "${name}" is missing (expected shape [${shape}])`);
      if (v.length !== size)
        throw new Error(
          `model weights: tensor "${name}" has ${v.length} values, but the config needs shape [${shape}] = ${size}`,
        );
      // Unique variable names: tfjs registers names globally per process. tf.variable keeps its initial tensor
      // alive beside itself (a second copy once the variable is assigned): tidy frees it, the variable stays.
      this.params[name] = tf.tidy(() => tf.variable(tf.tensor(v, shape), false, `gpt${id}/${name}`));
    }
  }

  static random(arch: ModelArch, seed: number): GPTModel {
    return new GPTModel(arch, initialValues(arch, seed));
  }

  get numParams(): number {
    return countParams(this.arch);
  }

  /** Every weight read back to the CPU (for saving): name → { shape, data }. */
  async weights(): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, v] of Object.entries(this.params))
      out.set(name, { shape: v.shape, data: (await v.data()) as Float32Array });
    return out;
  }

  /** Overwrites the weights from a name → values map (same shapes). */
  setWeights(values: Map<string, Float32Array>) {
    for (const [name, v] of Object.entries(this.params)) {
      const data = values.get(name);
      if (data) tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
    }
  }

  dispose() {
    for (const v of Object.values(this.params)) v.dispose();
  }
}
