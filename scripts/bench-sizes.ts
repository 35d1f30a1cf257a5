// Chooses the base model's size by measurement: ms per LoRA training step (rank 8 on q,k,v,o,up,down, embeddings
// frozen) on the wasm backend for candidate GPT-2-layout shapes, with QA-sized examples (112 tokens, padded to 112).
// Never a test. The machine is shared, so it quotes the median of --steps timed steps after 2 warm-up steps.
//   npx tsx scripts/bench-sizes.ts [--steps 10] [--batch 16] [--sizes 4x128,6x128]

import { initBackend } from '../src/core/backend';
import { defaultConfig, mergeConfig, type ModelArch } from '../src/core/config';
import type { Example } from '../src/core/data/types';
import { countParams } from '../src/core/model/gpt';
import { LoraSet } from '../src/core/model/lora';
import { GPTModel } from '../src/core/model/model';
import { Rng } from '../src/core/rng';
import { CharTokenizer } from '../src/core/tokenizer/char';
import { Trainer } from '../src/core/train/trainer';

const argv = process.argv.slice(2);
const opt = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : d);
const STEPS = Number(opt('steps', '10'));
const BATCH = Number(opt('batch', '16'));
const LEN = 112; // a QA record with its separator and <eos> is at most ~110 characters
const sizes = opt('sizes', '4x64,4x128,6x128,4x160,8x128').split(',');

function examples(n: number, vocab: number, seed: number): Example[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const ids = Array.from({ length: LEN + 1 }, () => rng.int(vocab));
    return { recordId: `b${i}`, ids, lossMask: ids.map((_, t) => (t > LEN - 8 ? 1 : 0)) };
  });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rep = await initBackend('wasm');
const tok = new CharTokenizer();
console.log('| shape (layers x width) | params | LoRA trainable | batch x seq | ms/step (median) | tokens/s |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const s of sizes) {
  const [nLayer, nEmbd] = s.split('x').map(Number);
  const arch: ModelArch = {
    vocabSize: tok.vocabSize,
    blockSize: 128,
    nLayer,
    nHead: 4,
    nEmbd,
    mlpRatio: 4,
    layerNormEps: 1e-5,
  };
  const c = mergeConfig(defaultConfig(), {
    model: { name: 'random', arch, backend: 'wasm' },
    lora: { rank: 8, alpha: 16, targets: ['q', 'k', 'v', 'o', 'up', 'down'] },
    train: { method: 'lora', maxSteps: STEPS + 2, batchSize: BATCH, freeze: { embeddings: true } },
    eval: { everySteps: 1_000_000, general: false },
  });
  const model = GPTModel.random(arch, 1);
  const lora = new LoraSet(arch, c.lora, 2);
  const view = { params: model.params, arch, lora, embedMode: rep.embedMode };
  const trainer = new Trainer({
    model: view,
    config: c,
    data: { train: examples(BATCH * 4, arch.vocabSize, 3), val: examples(BATCH, arch.vocabSize, 4) },
    tokenizer: tok,
    backend: 'wasm',
    totalParams: model.numParams,
  });
  const h = await trainer.run();
  const ms = median(h.steps.slice(2).map((x) => x.msPerStep));
  console.log(
    `| ${s} | ${countParams(arch).toLocaleString('en-US')} | ${h.trainableParams.toLocaleString('en-US')} | ${BATCH} x ${LEN} | ${ms.toFixed(0)} | ${Math.round((BATCH * LEN * 1000) / ms)} |`,
  );
  lora.dispose();
  model.dispose();
}
