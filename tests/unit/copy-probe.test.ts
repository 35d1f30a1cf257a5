// The copy probe (src/core/eval/copy-probe.ts) on every shipped model: the fixture is what the seeded generator
// writes, its spans are what they claim, and each model card's copy-probe figures are what our engine measures now
// (scripts/probes/copy_probe.py gave the same figures with an independent PyTorch forward pass).

import * as fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { diskLoader, type AssetLoader } from '../../src/core/assets';
import { initBackend } from '../../src/core/backend';
import { copyProbe, type ProbeSet } from '../../src/core/eval/copy-probe';
import { loadModel } from '../../src/core/model/checkpoint';
import { FIXTURE, makeProbeSet } from '../../scripts/probes/copy-probe';

const set = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as ProbeSet;
const MODELS = fs.readdirSync('public/models').sort();

describe('copy probe', () => {
  let loader: AssetLoader;
  beforeAll(async () => {
    await initBackend('wasm');
    loader = await diskLoader();
  });

  it('uses the texts the seeded generator writes, with spans that are two equal copies', () => {
    expect(makeProbeSet()).toEqual(set);
    for (const r of set.repeat) {
      expect(r.text.slice(...r.second)).toBe(r.text.slice(...r.first));
      expect(r.text).toBe(`${r.text.slice(...r.first)} ${r.text.slice(...r.second)}`);
    }
    expect(set.recall.filter((q) => q.direction === 'backward').length).toBe(set.recall.length / 2);
    for (const q of set.recall) expect(q.prompt.slice(0, q.prompt.indexOf('?'))).toContain(q.answer);
  });

  it.each(MODELS)('%s: the figures its card states', async (name) => {
    const card = fs.readFileSync(`public/models/${name}/MODEL_CARD.md`, 'utf8');
    const stated = (label: string) => {
      const v = new RegExp(`\\| Copy probe: ${label} \\| ([0-9.]+)`).exec(card)?.[1];
      expect(v, `${name}'s card states "Copy probe: ${label}"`).toBeDefined();
      return Number(v);
    };
    const m = await loadModel(loader, name);
    const r = await copyProbe(
      { params: m.model.params, arch: m.model.arch, lora: null, embedMode: 'onehot' },
      m.tokenizer,
      set,
    );
    expect(r.firstCopy).toBeCloseTo(stated('first copy'), 2);
    expect(r.secondCopy).toBeCloseTo(stated('second copy'), 2);
    expect(Math.abs(100 * r.recallForward - stated('recall, answer after its key'))).toBeLessThan(100 / 32);
    expect(Math.abs(100 * r.recallBackward - stated('recall, answer before its key'))).toBeLessThan(100 / 32);
  });
});
