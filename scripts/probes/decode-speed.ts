// Sampling speed with and without the key/value cache (model/kv-cache.ts): generate() against the same greedy
// decoding done by a full pass over the context for every token, on the shipped small-world and on SmolLM2-135M's
// shape (random weights), wasm, one thread. Both decode the same tokens (checked), so the ratio is the cache's alone.
// Run: npx tsx scripts/probes/decode-speed.ts [--tokens 48]

import * as tf from '@tensorflow/tfjs';
import { diskLoader } from '../../src/core/assets';
import { initBackend } from '../../src/core/backend';
import { BENCH_SIZES } from '../../src/core/bench';
import type { ModelView } from '../../src/core/eval/evaluate';
import { generate } from '../../src/core/eval/generate';
import { loadModel } from '../../src/core/model/checkpoint';
import { logits } from '../../src/core/model/gpt';
import { GPTModel } from '../../src/core/model/model';
import { CharTokenizer } from '../../src/core/tokenizer/char';
import type { Tokenizer } from '../../src/core/tokenizer/types';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('tokens', 48);

/** Greedy decoding by a full forward pass per token (what generate() did before the cache). */
async function fullPasses(m: ModelView, prompt: number[], n: number): Promise<number[]> {
  const ids = [...prompt];
  for (let i = 0; i < n; i++) {
    const lg = tf.tidy(() => {
      const all = logits(m.params, m.arch, tf.tensor2d(ids, [1, ids.length], 'int32'), { lora: null });
      return tf.argMax(tf.slice(all, [ids.length - 1, 0], [1, -1]), -1);
    });
    ids.push((await lg.data())[0]);
    lg.dispose();
  }
  return ids.slice(prompt.length);
}

/** A tokenizer over raw ids (the random model's vocabulary has no text). */
const idTokenizer = (vocab: number): Tokenizer =>
  ({
    eosId: -1,
    vocabSize: vocab,
    encode: (s: string) => s.split(',').map(Number),
    decode: (ids: number[]) => ids.join(','),
  }) as unknown as Tokenizer;

await initBackend('wasm');
const small = await loadModel(await diskLoader(), 'small-world');
const llama = GPTModel.random(BENCH_SIZES['llama-135M'].arch, 1);
const cases: [string, ModelView, Tokenizer, number[]][] = [
  [
    'small-world',
    { params: small.model.params, arch: small.model.arch, lora: null, embedMode: 'onehot' },
    new CharTokenizer(),
    new CharTokenizer().encode('Kai is a farmer and Mia is a baker. Who is the farmer?\nA: '),
  ],
  [
    'llama-135M shape',
    { params: llama.params, arch: llama.arch, lora: null, embedMode: 'onehot' },
    idTokenizer(49152),
    Array.from({ length: 64 }, (_, i) => (i * 7919) % 49152),
  ],
];
console.log(`| model | prompt tokens | new tokens | full passes ms/token | cached ms/token | speed-up |`);
console.log(`| --- | --- | --- | --- | --- | --- |`);
for (const [name, m, tok, prompt] of cases) {
  const n = Math.min(N, m.arch.blockSize - prompt.length);
  await fullPasses(m, prompt, 2); // warm-up
  let t0 = performance.now();
  const want = await fullPasses(m, prompt, n);
  const full = (performance.now() - t0) / n;
  t0 = performance.now();
  const g = await generate(m, tok, tok.decode(prompt), { maxTokens: n, temperature: 0, topK: 0, stop: [], seed: 0 });
  const cached = (performance.now() - t0) / g.tokens;
  const got = name === 'small-world' ? tok.encode(g.text) : tok.encode(g.text);
  const same = want.slice(0, got.length).every((id, i) => id === got[i]);
  console.log(
    `| ${name} | ${prompt.length} | ${g.tokens} | ${full.toFixed(1)} | ${cached.toFixed(1)} | ${(full / cached).toFixed(1)}x${same ? '' : ' (TOKENS DIFFER)'} |`,
  );
}
