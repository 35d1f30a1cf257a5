// Memory of a training step by part (src/core/train/memory.ts) at the shipped models' shapes and lesson 12's batch:
// LoRA's peak below full fine-tuning's, each part what the method implies, and a backward pass that frees each
// intermediate gradient and saved tensor once used (tfjs alone keeps them all until the pass ends, which once put
// LoRA's peak above full fine-tuning's).

import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend';
import { defaultConfig, mergeConfig, validate, type ModelArch } from '../../src/core/config';
import { CharTokenizer } from '../../src/core/tokenizer/char';
import { GPTModel } from '../../src/core/model/model';
import { bytesOf, type MemoryParts } from '../../src/core/train/memory';
import { Trainer } from '../../src/core/train/trainer';
import { randomExamples, tinyModel } from '../helpers/tiny';

const archOf = (name: string): ModelArch =>
  JSON.parse(readFileSync(`public/models/${name}/config.json`, 'utf8')).arch as ModelArch;

/** Two steps of lesson 12's run (batch 8 of full-length sequences) on random weights of the given shape. */
async function stepMemory(arch: ModelArch, method: 'full' | 'lora'): Promise<MemoryParts> {
  const data = { train: randomExamples(16, arch, 5), val: [] };
  const config = validate(
    mergeConfig(defaultConfig(), {
      model: { name: 'random', arch, backend: 'wasm' },
      train: { method, maxSteps: 2, batchSize: 8, lr: 1e-3, freeze: { embeddings: false } },
      lora: { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'o'] },
      eval: { general: false, peakMemory: true, everySteps: 100 },
    }),
    data.train.length,
  );
  const { model, lora, view } = tinyModel(config, 1, method === 'lora');
  const h = await new Trainer({
    model: view,
    config,
    data,
    tokenizer: new CharTokenizer(),
    backend: 'wasm',
    totalParams: model.numParams,
  }).run();
  model.dispose();
  lora?.dispose();
  expect(h.end.reason).toBe('completed');
  expect(h.peakBytes).toBe(h.memory!.peak);
  return h.memory!;
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe.each(['tiny-world', 'small-world'])('memory of a step on %s', (name) => {
  let full: MemoryParts;
  let lora: MemoryParts;
  beforeAll(async () => {
    full = await stepMemory(archOf(name), 'full');
    lora = await stepMemory(archOf(name), 'lora');
  }, 120_000);

  it('LoRA peaks below full fine-tuning', () => {
    expect(lora.peak).toBeLessThan(full.peak);
  });

  it('each part is what the method implies: AdamW keeps two moments per trainable weight, one gradient each', () => {
    const weights = full.frozenWeights + full.trainableWeights;
    expect(lora.frozenWeights + lora.trainableWeights).toBeGreaterThan(weights); // the adapters come on top
    expect(full.frozenWeights).toBe(0);
    expect(full.optimizerState).toBe(2 * full.trainableWeights);
    expect(full.gradients).toBe(full.trainableWeights);
    expect(lora.optimizerState).toBe(2 * lora.trainableWeights);
    expect(lora.gradients).toBe(lora.trainableWeights);
    expect(lora.trainableWeights).toBeLessThan(0.1 * weights);
    // LoRA's frozen projections save no input for a weight gradient nobody wants
    expect(lora.activations).toBeLessThan(full.activations);
  });

  it('backward frees what it has used: its working memory stays well under the activations', () => {
    for (const m of [full, lora]) expect(m.temporaries).toBeLessThan(0.5 * m.activations);
  });
});

describe('weights held once', () => {
  it('a model holds each weight once, also after an update assigns new values', () => {
    const before = tf.memory().numBytes;
    const model = GPTModel.random(archOf('tiny-world'), 1);
    const bytes = bytesOf(Object.values(model.params));
    expect(tf.memory().numBytes - before).toBe(bytes);
    for (const v of Object.values(model.params)) tf.tidy(() => (v as tf.Variable).assign(tf.add(v, 1)));
    expect(tf.memory().numBytes - before).toBe(bytes);
    model.dispose();
    expect(tf.memory().numBytes).toBe(before);
  });
});
