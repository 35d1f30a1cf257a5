// Tiny models and data made inside the tests (nothing downloaded, nothing shipped needed).

import * as tf from '@tensorflow/tfjs';
import { defaultConfig, mergeConfig, type DeepPartial, type ModelArch, type RunConfig } from '../../src/core/config';
import type { Example } from '../../src/core/data/types';
import { paramShapes } from '../../src/core/model/gpt';
import { GPTModel } from '../../src/core/model/model';
import { LoraSet } from '../../src/core/model/lora';
import type { ModelView } from '../../src/core/eval/evaluate';
import { Rng } from '../../src/core/rng';

export const TINY: ModelArch = {
  vocabSize: 11,
  blockSize: 8,
  nLayer: 2,
  nHead: 2,
  nEmbd: 8,
  mlpRatio: 4,
  layerNormEps: 1e-5,
};

export function tinyConfig(over: DeepPartial<RunConfig> = {}): RunConfig {
  return mergeConfig(
    defaultConfig(),
    { model: { name: 'random', arch: TINY, backend: 'cpu' }, eval: { general: false } },
    over,
  );
}

/** Random token sequences of length blockSize+1 with full loss masks. */
export function randomExamples(n: number, arch: ModelArch, seed: number, len = arch.blockSize + 1): Example[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const ids = Array.from({ length: len }, () => rng.int(arch.vocabSize));
    return { recordId: `r${i}`, ids, lossMask: ids.map(() => 1) };
  });
}

export function tinyModel(
  c: RunConfig,
  seed = 1,
  withLora = true,
): { model: GPTModel; lora: LoraSet | null; view: ModelView } {
  const model = GPTModel.random(c.model.arch, seed);
  const lora = withLora ? new LoraSet(c.model.arch, c.lora, seed + 1) : null;
  return {
    model,
    lora,
    view: {
      params: model.params,
      arch: c.model.arch,
      lora,
      embedMode: tf.getBackend() === 'wasm' ? 'onehot' : 'gather',
    },
  };
}

/**
 * Weights for gradient checks: every matrix, bias and embedding ~ N(0, std), LayerNorm gains 1 + N(0, std/2).
 * GPT-2's own init (std 0.02, zero biases) makes most gradients too small for a float32 finite difference.
 */
export function scaledValues(arch: ModelArch, seed: number, std = 0.5): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of paramShapes(arch)) {
    const gain = /ln_[12f]\.weight$/.test(name);
    const data = new Float32Array(shape.reduce((x, y) => x * y, 1)).map(() =>
      gain ? 1 + rng.normal() * std * 0.5 : rng.normal() * std,
    );
    out.set(name, data);
  }
  return out;
}

/** Reads a tensor's values, then disposes it. */
export async function valuesOf(t: tf.Tensor): Promise<Float32Array> {
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

/** Copies of variables' current values, by name (for bit-identical before/after comparisons). */
export async function snapshot(vars: Record<string, tf.Variable> | tf.Variable[]): Promise<Map<string, Float32Array>> {
  const entries = Array.isArray(vars) ? vars.map((v) => [v.name, v] as const) : Object.entries(vars);
  const out = new Map<string, Float32Array>();
  for (const [name, v] of entries) out.set(name, ((await v.data()) as Float32Array).slice());
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Assigns plain numbers to a variable (test set-up: a nonzero LoRA B, a perturbed weight). */
export function setValues(v: tf.Variable, data: ArrayLike<number>) {
  tf.tidy(() => v.assign(tf.tensor(Float32Array.from(data), v.shape)));
}

/** n values ~ N(0, std) from a seed. */
export function normals(n: number, seed: number, std = 1): Float32Array {
  const rng = new Rng(seed);
  return new Float32Array(n).map(() => rng.normal() * std);
}
