// Decoding through the key/value cache (model/kv-cache.ts) gives the logits of a full forward pass: on the shipped
// small-world (GPT-2 layout, learned positions) and on a Llama-layout model with grouped heads, q/k/v biases and
// rotary positions, both with trained-looking LoRA adapters on every target, rows of different prompt lengths in one
// batch, on wasm (the page's and the CLI's backend) and cpu. greedyBatch and generate() answer what decoding from
// full passes answers.

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskLoader } from '../../src/core/assets';
import { initBackend } from '../../src/core/backend';
import { LLAMA_LORA_TARGETS, LORA_TARGETS, defaultConfig, type ModelArch } from '../../src/core/config';
import { greedyBatch, type ModelView } from '../../src/core/eval/evaluate';
import { generate } from '../../src/core/eval/generate';
import { loadModel } from '../../src/core/model/checkpoint';
import { logits } from '../../src/core/model/gpt';
import { KvCache, lastLogits } from '../../src/core/model/kv-cache';
import { LoraSet } from '../../src/core/model/lora';
import { GPTModel } from '../../src/core/model/model';
import { Rng } from '../../src/core/rng';
import { CharTokenizer } from '../../src/core/tokenizer/char';
import { normals, setValues } from '../helpers/tiny';

/** SmolLM's proportions, small: 3 query heads per key/value head, head width 16, biases on q/k/v (Qwen2's option). */
const LLAMA: ModelArch = {
  vocabSize: 99,
  blockSize: 64,
  nLayer: 3,
  nHead: 6,
  nEmbd: 96,
  mlpRatio: 2.5,
  layerNormEps: 1e-5,
  llama: { nKvHead: 2, intermediateSize: 160, ropeTheta: 10000, qkvBias: true, tiedHead: false },
};

/** LoRA on every target with B ~ N(0, 0.05), so the adapters change the logits (B = 0 at creation adds nothing). */
function adapters(arch: ModelArch): LoraSet {
  const cfg = { ...defaultConfig().lora, rank: 4, targets: [...(arch.llama ? LLAMA_LORA_TARGETS : LORA_TARGETS)] };
  const lora = new LoraSet(arch, cfg, 3);
  lora.adapters.forEach((ad, i) => setValues(ad.B, normals(ad.B.size, 100 + i, 0.05)));
  return lora;
}

/** Full-pass logits of the last token of `ids`. */
async function fullLast(m: ModelView, ids: number[]): Promise<Float32Array> {
  const lg = tf.tidy(() => {
    const all = logits(m.params, m.arch, tf.tensor2d(ids, [1, ids.length], 'int32'), { lora: m.lora });
    return tf.slice(all, [ids.length - 1, 0], [1, -1]);
  });
  const out = (await lg.data()) as Float32Array;
  lg.dispose();
  return out;
}

/** Greedy decoding by full passes, one row at a time: what greedyBatch must reproduce. */
async function greedyFull(m: ModelView, prompt: number[], maxNew: number, eos: number): Promise<number[]> {
  const ids = [...prompt];
  const out: number[] = [];
  for (let n = 0; n < maxNew && ids.length < m.arch.blockSize; n++) {
    const lg = await fullLast(m, ids);
    const id = lg.reduce((best, v, i) => (v > lg[best] ? i : best), 0);
    if (id === eos) break;
    ids.push(id);
    out.push(id);
  }
  return out;
}

const randomIds = (n: number, vocab: number, rng: Rng) =>
  Array.from({ length: n }, () => Math.floor(rng.next() * vocab));

describe.each(['wasm', 'cpu'] as const)('key/value cache on %s', (backend) => {
  const views: [string, ModelView][] = [];
  const owned: { dispose(): void }[] = [];
  beforeAll(async () => {
    await initBackend(backend);
    const small = await loadModel(await diskLoader(), 'small-world');
    const smallLora = adapters(small.model.arch);
    const llama = GPTModel.random(LLAMA, 5);
    // std 0.02 weights leave every logit near 0; larger ones give a model whose predictions depend on its context
    for (const v of Object.values(llama.params))
      if (!v.name.includes('norm')) tf.tidy(() => (v as tf.Variable).assign(tf.mul(v, 10)));
    const llamaLora = adapters(LLAMA);
    owned.push(small.model, smallLora, llama, llamaLora);
    views.push(
      ['small-world', { params: small.model.params, arch: small.model.arch, lora: smallLora, embedMode: 'onehot' }],
      ['llama layout', { params: llama.params, arch: LLAMA, lora: llamaLora, embedMode: 'onehot' }],
    );
  });
  afterAll(() => owned.forEach((o) => o.dispose()));

  it('gives the full pass logits at every step, rows of different lengths in one batch', async () => {
    for (const [name, m] of views) {
      const rng = new Rng(7);
      const lens = [5, 23, 1, 14];
      const rows = lens.map((n) => randomIds(n + 6, m.arch.vocabSize, rng)); // prompt, then 6 tokens fed one by one
      const cache = new KvCache(m.arch, rows.length);
      const T = Math.max(...lens);
      let tokens = rows.map((r, i) => [...r.slice(0, lens[i]), ...new Array<number>(T - lens[i]).fill(0)]);
      let real = lens.map((n) => Array.from({ length: T }, (_, j) => j < n));
      for (let step = 0; step <= 6; step++) {
        const before = tf.memory().numTensors;
        const lg = tf.tidy(() => lastLogits(m.params, cache.forward(m.params, tokens, real, { lora: m.lora }), real));
        const got = (await lg.data()) as Float32Array;
        lg.dispose();
        // the cache holds two tensors per block, made by the first pass and replaced (not added to) after it
        expect(tf.memory().numTensors - before, `${name}, tensors kept at step ${step}`).toBe(
          step === 0 ? 2 * m.arch.nLayer : 0,
        );
        for (let r = 0; r < rows.length; r++) {
          const want = await fullLast(m, rows[r].slice(0, lens[r] + step));
          const V = m.arch.vocabSize;
          let diff = 0;
          for (let v = 0; v < V; v++) diff = Math.max(diff, Math.abs(got[r * V + v] - want[v]));
          expect(diff, `${name}, row ${r}, step ${step}`).toBeLessThan(1e-4);
          // the check means something: the logits move with the context
          if (step === 6 && r === 0) expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(1);
        }
        tokens = rows.map((row, r) => [row[lens[r] + step]]);
        real = rows.map(() => [true]);
      }
      const held = tf.memory().numTensors;
      cache.dispose();
      expect(held - tf.memory().numTensors).toBe(2 * m.arch.nLayer);
    }
  });

  it('greedyBatch answers what greedy decoding by full passes answers, each row on its own', async () => {
    for (const [name, m] of views) {
      const rng = new Rng(11);
      const prompts = [3, 17, 9, 30].map((n) => randomIds(n, m.arch.vocabSize, rng));
      const eos = 2;
      const batch = await greedyBatch(m, prompts, 8, eos);
      for (let r = 0; r < prompts.length; r++)
        expect(batch[r], `${name}, row ${r}`).toEqual(await greedyFull(m, prompts[r], 8, eos));
    }
  });

  it('greedyBatch stops a row at the end of the context; generate() slides past it', async () => {
    const [, m] = views[1]; // the Llama view: blockSize 64
    const rng = new Rng(13);
    const long = randomIds(m.arch.blockSize - 3, m.arch.vocabSize, rng);
    const [out] = await greedyBatch(m, [long], 10, -1);
    expect(out).toEqual(await greedyFull(m, long, 10, -1));
    expect(out.length).toBe(3);
    // generate(): the cache while the text fits, then a window of the last blockSize tokens; greedy either way
    const tok = new CharTokenizer();
    const prompt = tok.decode(randomIds(m.arch.blockSize - 4, 90, rng).map((i) => 3 + i));
    const g = await generate(m, tok, prompt, { maxTokens: 8, temperature: 0, topK: 0, stop: [], seed: 1 });
    const ids = tok.encode(prompt);
    for (const id of tok.encode(g.text)) {
      const lg = await fullLast(m, ids.slice(-m.arch.blockSize));
      expect(id).toBe(lg.reduce((best, v, i) => (v > lg[best] ? i : best), 0));
      ids.push(id);
    }
    expect(ids.length).toBeGreaterThan(m.arch.blockSize); // it did go past the context
  });
});
