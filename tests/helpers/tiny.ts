// Tiny models and data made inside the tests (nothing downloaded, nothing shipped needed).

import * as tf from '@tensorflow/tfjs';
import { defaultConfig, mergeConfig, type DeepPartial, type ModelArch, type RunConfig } from '../../src/core/config';
import type { Example } from '../../src/core/data/types';
import { GPTModel } from '../../src/core/model/model';
import { LoraSet } from '../../src/core/model/lora';
import type { ModelView } from '../../src/core/eval/evaluate';
import { Rng } from '../../src/core/rng';

export const TINY: ModelArch = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, mlpRatio: 4, layerNormEps: 1e-5 };

export function tinyConfig(over: DeepPartial<RunConfig> = {}): RunConfig {
  return mergeConfig(defaultConfig(), { model: { name: 'random', arch: TINY, backend: 'cpu' }, eval: { general: false } }, over);
}

/** Random token sequences of length blockSize+1 with full loss masks. */
export function randomExamples(n: number, arch: ModelArch, seed: number, len = arch.blockSize + 1): Example[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const ids = Array.from({ length: len }, () => rng.int(arch.vocabSize));
    return { recordId: `r${i}`, ids, lossMask: ids.map(() => 1) };
  });
}

export function tinyModel(c: RunConfig, seed = 1, withLora = true): { model: GPTModel; lora: LoraSet | null; view: ModelView } {
  const model = GPTModel.random(c.model.arch, seed);
  const lora = withLora ? new LoraSet(c.model.arch, c.lora, seed + 1) : null;
  return { model, lora, view: { params: model.params, arch: c.model.arch, lora, embedMode: tf.getBackend() === 'wasm' ? 'onehot' : 'gather' } };
}
