// The built-in model as shipped: it loads, its held-out loss is the one its model card states, corrupt files
// are refused with a message naming the problem, and LoRA fine-tuning on the QA task really raises held-out
// exact-match accuracy above the base model's.

import * as fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { diskLoader, type AssetLoader } from '../../src/core/assets';
import { initBackend } from '../../src/core/backend';
import { defaultConfig, mergeConfig } from '../../src/core/config';
import { chunkText } from '../../src/core/data/format';
import { GENERAL_HELDOUT } from '../../src/core/data/prepare';
import { evalLoss, greedyBatch } from '../../src/core/eval/evaluate';
import { exactMatch } from '../../src/core/rules';
import { loadModel } from '../../src/core/model/checkpoint';
import { Session } from '../../src/core/session';

const card = fs.readFileSync('public/models/tiny-world/MODEL_CARD.md', 'utf8');

/** A loader that serves the real files but lets a test replace one. */
function patched(base: AssetLoader, path: string, bytes: Uint8Array | string): AssetLoader {
  return {
    bytes: async (p) =>
      p === path ? (typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes) : base.bytes(p),
    text: async (p) =>
      p === path ? (typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes)) : base.text(p),
  };
}

describe('shipped model tiny-world', () => {
  let loader: AssetLoader;
  beforeAll(async () => {
    await initBackend('wasm');
    loader = await diskLoader();
  });

  it('evaluates the held-out general set to the loss in its model card', async () => {
    const m = await loadModel(loader, 'tiny-world');
    const stated = Number(/Held-out general loss \| ([0-9.]+)/.exec(card)?.[1]);
    expect(stated).toBeGreaterThan(0);
    const heldout = chunkText(await loader.text(GENERAL_HELDOUT), m.tokenizer, m.model.arch.blockSize);
    const loss = await evalLoss(
      { params: m.model.params, arch: m.model.arch, lora: null, embedMode: 'onehot' },
      heldout,
      32,
    );
    expect(Math.abs(loss - stated)).toBeLessThan(2e-3);
    m.model.dispose();
  });

  it('refuses corrupt files with a message naming the problem', async () => {
    const real = await loader.bytes('models/tiny-world/model.safetensors');
    const truncated = real.slice(0, real.length - 1000);
    await expect(
      loadModel(patched(loader, 'models/tiny-world/model.safetensors', truncated), 'tiny-world'),
    ).rejects.toThrow(/truncated/);
    const badHeader = real.slice();
    badHeader.set([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], 0);
    await expect(
      loadModel(patched(loader, 'models/tiny-world/model.safetensors', badHeader), 'tiny-world'),
    ).rejects.toThrow(/model\.safetensors: .*header/);
    const cfg = JSON.parse(await loader.text('models/tiny-world/config.json'));
    cfg.arch.nEmbd = 96;
    cfg.arch.nHead = 4;
    await expect(
      loadModel(patched(loader, 'models/tiny-world/config.json', JSON.stringify(cfg)), 'tiny-world'),
    ).rejects.toThrow(/wte\.weight.*shape \[99,64\].*needs \[99,96\]/);
    await expect(
      loadModel(patched(loader, 'models/tiny-world/config.json', '{"arch": '), 'tiny-world'),
    ).rejects.toThrow(/config\.json: is not valid JSON/);
    await expect(loadModel(loader, 'no-such-model')).rejects.toThrow(
      /models\/no-such-model\/config\.json: file not found/,
    );
  });

  it('LoRA fine-tuning on QA raises held-out exact-match accuracy well above the base model', async () => {
    const session = await Session.create({ loader, backend: 'wasm' });
    const config = mergeConfig(defaultConfig(), QA_RUN);
    const run = await session.prepare(config);
    const qs = run.data.valQuestions!;
    const tok = session.tokenizer;
    const accuracy = async (view: Parameters<typeof greedyBatch>[0]) => {
      const answers = await greedyBatch(
        view,
        qs.map((q) => q.prompt),
        16,
        tok.eosId,
        tok.encode('\n'),
      );
      return answers.filter((a, i) => exactMatch(tok.decode(a), qs[i].answer)).length / qs.length;
    };
    const before = await accuracy(session.baseView());
    const history = await session.train();
    const after = await accuracy(run.view);
    console.log(
      `QA exact match on ${qs.length} held-out questions: base ${(before * 100).toFixed(1)}% → LoRA ${(after * 100).toFixed(1)}% after ${history.end.step} steps`,
    );
    // measured: base 0% (it has never seen the "\nA: " format) → ~30% (two-entity questions are hard for 215k params)
    expect(after).toBeGreaterThan(before + 0.2);
    session.dispose();
  });
});

export const QA_RUN = {
  model: { name: 'tiny-world' },
  data: { dataset: 'qa', split: { train: 0.8, val: 0.2, test: 0 } },
  lora: {
    rank: 8,
    alpha: 16,
    targets: ['q', 'k', 'v', 'o', 'up', 'down'] as ('q' | 'k' | 'v' | 'o' | 'up' | 'down')[],
  },
  train: { lr: 1e-2, maxSteps: 150, batchSize: 16, warmupSteps: 5, schedule: 'cosine' as const },
  eval: { everySteps: 1000, general: false },
};
