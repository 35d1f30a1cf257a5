// Memory of a training step by part (src/core/train/memory.ts) at the shipped models' shapes and lesson 12's batch:
// LoRA's peak below full fine-tuning's, each part what the method implies, and a backward pass that frees each
// intermediate gradient and saved tensor once used (tfjs alone keeps them all until the pass ends, which once put
// LoRA's peak above full fine-tuning's).

import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend';
import {
  defaultConfig,
  memoryLimit,
  mergeConfig,
  stepMemoryProblem,
  validate,
  type ModelArch,
} from '../../src/core/config';
import { estimateStepMemory } from '../../src/core/memory-estimate';
import { diskLoader } from '../../src/core/assets';
import { Session } from '../../src/core/session';
import { CharTokenizer } from '../../src/core/tokenizer/char';
import { GPTModel } from '../../src/core/model/model';
import { bytesOf, type MemoryParts } from '../../src/core/train/memory';
import { Trainer } from '../../src/core/train/trainer';
import { randomExamples, tinyModel } from '../helpers/tiny';

const archOf = (name: string): ModelArch =>
  JSON.parse(readFileSync(`public/models/${name}/config.json`, 'utf8')).arch as ModelArch;

/** Lesson 12's run (batch 8 of full-length sequences) for two steps. */
const lessonConfig = (arch: ModelArch, method: 'full' | 'lora') =>
  mergeConfig(defaultConfig(), {
    model: { name: 'random', arch, backend: 'wasm' },
    train: { method, maxSteps: 2, batchSize: 8, lr: 1e-3, freeze: { embeddings: false } },
    lora: { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'o'] },
    eval: { general: false, peakMemory: true, everySteps: 100 },
  });

/** Two steps of lesson 12's run (batch 8 of full-length sequences) on random weights of the given shape. */
async function stepMemory(arch: ModelArch, method: 'full' | 'lora'): Promise<MemoryParts> {
  const data = { train: randomExamples(16, arch, 5), val: [] };
  const config = validate(lessonConfig(arch, method), data.train.length);
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

  it('the estimate that refuses a run before it starts (memory-estimate.ts) is within a third of the measured step', () => {
    for (const [m, method] of [
      [full, 'full'],
      [lora, 'lora'],
    ] as const) {
      const e = estimateStepMemory(lessonConfig(archOf(name), method));
      expect(e.activations / m.activations, `${method} activations`).toBeGreaterThan(0.75);
      expect(e.activations / m.activations, `${method} activations`).toBeLessThan(1.33);
      expect(e.peak / m.peak, `${method} peak`).toBeGreaterThan(0.75);
      expect(e.peak / m.peak, `${method} peak`).toBeLessThan(1.33);
    }
  });
});

describe('a step that cannot fit is refused before it starts, with its parts', () => {
  // SmolLM2-135M's shape in the Llama layout, at 8 × 512 tokens
  const smol: ModelArch = {
    vocabSize: 49152,
    blockSize: 2048,
    nLayer: 30,
    nHead: 9,
    nEmbd: 576,
    mlpRatio: 1536 / 576,
    layerNormEps: 1e-5,
    llama: { nKvHead: 3, intermediateSize: 1536, ropeTheta: 100000, qkvBias: false, tiedHead: true },
  };
  const at = (method: 'full' | 'lora', batchSize: number) =>
    mergeConfig(defaultConfig(), { model: { name: 'x', arch: smol }, train: { method, batchSize } });
  it('full fine-tuning of a 135M model at batch 8 × 512 is refused; LoRA at batch 2 runs', () => {
    // on wasm: full fine-tuning at batch 2 × 128 (it aborted at the heap's end when run) refused, LoRA (it ran) not
    const heap = stepMemoryProblem(at('full', 2), 128, memoryLimit(), 'wasm');
    expect(heap?.message).toMatch(
      /and wasm's heap grows to about 2× the [\d.]+ GB of tensors, [\d.]+ GB, past its 4 GiB end/,
    );
    expect(stepMemoryProblem(at('lora', 2), 128, memoryLimit(), 'wasm')).toBeNull();
    expect(stepMemoryProblem(at('full', 2), 128, memoryLimit(), 'webgpu')).toBeNull();
    const p = stepMemoryProblem(at('full', 8), 512, memoryLimit());
    expect(p?.field).toBe('train.batchSize');
    expect(p?.message).toMatch(
      /^train\.batchSize = 8 is not valid: a step of full fine-tuning on this model needs about [\d.]+ GB \(weights [\d.]+ MB and the copy each run starts from [\d.]+ MB, gradients [\d.]+ MB, optimizer state [\d.]+ GB, activations [\d.]+ GB at 8 × 512 tokens, working memory [\d.]+ [MG]B\), over the 4 GB limit here .*; use LoRA \(train.method "lora"\) or a smaller train.batchSize$/,
    );
    expect(stepMemoryProblem(at('lora', 2), 512, memoryLimit())).toBeNull();
  });
});

describe('a Session refuses such a run when it is prepared, and keeps its model', () => {
  it('tiny-world under a 5 MB limit: the model loads (1.7 MB), the step (about 20 MB) is refused with its parts', async () => {
    const session = await Session.create({
      loader: await diskLoader(),
      backend: 'wasm',
      memory: { bytes: 5e6, why: 'a test limit' },
    });
    const config = mergeConfig(defaultConfig(), { model: { name: 'tiny-world' }, eval: { general: false } });
    await expect(session.prepare(config)).rejects.toThrow(
      /^train\.batchSize = 8 is not valid: a step of LoRA on this model needs about [\d.]+ MB \(.*\), over the 5 MB limit here \(a test limit\); use a smaller train\.batchSize$/,
    );
    expect(session.model.numParams).toBeGreaterThan(0); // the model is still there for a smaller run
    session.dispose();
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
