// Sampling text from the model: temperature, top-k, a token budget and stop sequences. Seeded, so a sample repeats.

import * as tf from '@tensorflow/tfjs';
import { hiddenStates, headLogits } from '../model/gpt';
import { KvCache, lastLogits } from '../model/kv-cache';
import { Rng } from '../rng';
import type { Tokenizer } from '../tokenizer/types';
import type { ModelView } from './evaluate';

export interface GenerateOptions {
  maxTokens: number; // new tokens at most
  temperature: number; // 0 = greedy
  topK: number; // sample among the k most likely tokens; 0 = all
  stop: string[]; // stop when the generated text contains any of these (the stop text is cut off)
  seed: number;
}

export interface Generation {
  text: string; // the generated continuation (without the prompt)
  stoppedBy: 'eos' | 'stop' | 'max_tokens' | 'context';
  tokens: number;
}

/** Picks a token from logits: greedy at temperature 0, else softmax(logits/T) over the top k. */
export function sampleToken(lg: Float32Array, temperature: number, topK: number, rng: Rng): number {
  if (temperature <= 0) return lg.reduce((best, v, i) => (v > lg[best] ? i : best), 0);
  let idx = [...lg.keys()];
  if (topK > 0 && topK < idx.length) idx = idx.sort((a, b) => lg[b] - lg[a]).slice(0, topK);
  const max = Math.max(...idx.map((i) => lg[i]));
  const w = idx.map((i) => Math.exp((lg[i] - max) / temperature));
  let r = rng.next() * w.reduce((a, b) => a + b, 0);
  for (let j = 0; j < idx.length; j++) if ((r -= w[j]) <= 0) return idx[j];
  return idx[idx.length - 1];
}

/**
 * Samples a continuation of `prompt`. Through a key/value cache while the text fits the model's context; past it,
 * each token reads the last blockSize tokens afresh (a sliding window: learned positions cannot shift in a cache).
 */
export async function generate(m: ModelView, tok: Tokenizer, prompt: string, o: GenerateOptions): Promise<Generation> {
  const rng = new Rng(o.seed);
  const ids = tok.encode(prompt);
  const start = ids.length;
  const cache = new KvCache(m.arch, 1);
  let cached = 0; // ids already in the cache
  try {
    for (let n = 0; n < o.maxTokens; n++) {
      const lgT = tf.tidy(() => {
        if (ids.length <= m.arch.blockSize) {
          const fresh = [ids.slice(cached)];
          const real = [fresh[0].map(() => true)];
          cached = ids.length;
          return lastLogits(m.params, cache.forward(m.params, fresh, real, { lora: m.lora }), real);
        }
        const ctx = ids.slice(-m.arch.blockSize);
        const h = hiddenStates(m.params, m.arch, tf.tensor2d(ctx, [1, ctx.length], 'int32'), {
          lora: m.lora,
          embedMode: m.embedMode,
        });
        return headLogits(m.params, tf.slice(h, [ctx.length - 1, 0], [1, -1]));
      });
      const lg = (await lgT.data()) as Float32Array;
      lgT.dispose();
      const id = sampleToken(lg, o.temperature, o.topK, rng);
      if (id === tok.eosId) return { text: tok.decode(ids.slice(start)), stoppedBy: 'eos', tokens: n };
      ids.push(id);
      const text = tok.decode(ids.slice(start));
      const hit = o.stop
        .filter((s) => s.length > 0)
        .map((s) => text.indexOf(s))
        .filter((i) => i >= 0);
      if (hit.length > 0) return { text: text.slice(0, Math.min(...hit)), stoppedBy: 'stop', tokens: n + 1 };
    }
    return { text: tok.decode(ids.slice(start)), stoppedBy: 'max_tokens', tokens: o.maxTokens };
  } finally {
    cache.dispose();
  }
}
