// Measured step memory by part (train/memory.ts) beside the estimate (memory-estimate.ts) at several shapes,
// both methods: how close the estimate that refuses a run before it starts comes to what a step really takes.
// Run: npx tsx scripts/probes/memory-calibrate.ts

import { defaultConfig, mergeConfig, validate, type ModelArch } from '../../src/core/config';
import { initBackend } from '../../src/core/backend';
import { estimateStepMemory } from '../../src/core/memory-estimate';
import { GPTModel } from '../../src/core/model/model';
import { LoraSet } from '../../src/core/model/lora';
import { CharTokenizer } from '../../src/core/tokenizer/char';
import { Trainer } from '../../src/core/train/trainer';
import { Rng } from '../../src/core/rng';

const shapes: [string, ModelArch][] = [
  ['tiny-world', { vocabSize: 99, blockSize: 128, nLayer: 4, nHead: 4, nEmbd: 64, mlpRatio: 4, layerNormEps: 1e-5 }],
  ['small-world', { vocabSize: 99, blockSize: 128, nLayer: 6, nHead: 4, nEmbd: 128, mlpRatio: 4, layerNormEps: 1e-5 }],
  ['gpt2-vocab', { vocabSize: 8192, blockSize: 64, nLayer: 2, nHead: 4, nEmbd: 128, mlpRatio: 4, layerNormEps: 1e-5 }],
  [
    'llama-gqa',
    {
      vocabSize: 4096,
      blockSize: 128,
      nLayer: 4,
      nHead: 8,
      nEmbd: 128,
      mlpRatio: 344 / 128,
      layerNormEps: 1e-5,
      llama: { nKvHead: 2, intermediateSize: 344, ropeTheta: 10000, qkvBias: false, tiedHead: true },
    },
  ],
];

await initBackend('wasm');
for (const [name, arch] of shapes) {
  for (const method of ['full', 'lora'] as const) {
    const rng = new Rng(3);
    const train = Array.from({ length: 16 }, (_, i) => {
      const ids = Array.from({ length: arch.blockSize + 1 }, () => rng.int(arch.vocabSize));
      return { recordId: `r${i}`, ids, lossMask: ids.map(() => 1) };
    });
    const config = validate(
      mergeConfig(defaultConfig(), {
        model: { name: 'random', arch, backend: 'wasm' },
        train: { method, maxSteps: 2, batchSize: 8, lr: 1e-3, freeze: { embeddings: false } },
        lora: { rank: 4, alpha: 8, targets: arch.llama ? ['q', 'k', 'v', 'o', 'gate'] : ['q', 'k', 'v', 'o'] },
        eval: { general: false, peakMemory: true, everySteps: 100 },
      }),
      train.length,
    );
    const model = GPTModel.random(arch, 1);
    const lora = method === 'lora' ? new LoraSet(arch, config.lora, 2) : null;
    const h = await new Trainer({
      model: { params: model.params, arch, lora, embedMode: 'onehot' },
      config,
      data: { train, val: [] },
      tokenizer: new CharTokenizer(),
      backend: 'wasm',
      totalParams: model.numParams,
    }).run();
    const m = h.memory!;
    const e = estimateStepMemory(config);
    const kb = (x: number) => (x / 1024).toFixed(0).padStart(7);
    console.log(
      `${name.padEnd(12)} ${method.padEnd(4)} measured: act ${kb(m.activations)} KB peak ${kb(m.peak)} KB | estimate: act ${kb(e.activations)} KB peak ${kb(e.peak)} KB | ratio peak ${(e.peak / m.peak).toFixed(2)} act ${(e.activations / m.activations).toFixed(2)}`,
    );
    model.dispose();
    lora?.dispose();
  }
}
