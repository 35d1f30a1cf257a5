// PEFT adapters: PEFT's exact names and shapes for the tiny GPT-2, q/k/v fused into one c_attn adapter, the
// committed adapter merged by PEFT's formula in PyTorch (tests/fixtures/gpt2-tiny/peft_reference.py) against our
// forward pass, export → import round trips, foreign adapters with rank/alpha patterns, refusals, and the merged
// model as a Hugging Face GPT-2 folder.

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend';
import type { LoraConfig, LoraTarget } from '../../src/core/config';
import { archFromHfConfig, gpt2WeightsFromHf, importHfGpt2, type HfFiles } from '../../src/core/import/hf-gpt2';
import { exportMergedHfGpt2, exportPeftAdapter, importPeftAdapter } from '../../src/core/import/peft';
import { LoraSet } from '../../src/core/model/lora';
import type { GPTModel } from '../../src/core/model/model';
import { readSafetensors, writeSafetensors } from '../../src/core/model/safetensors';
import {
  fixtureBytes,
  fixtureFiles,
  fixtureJson,
  fixtureLogits,
  fixtureTokenizer,
  type Golden,
} from '../helpers/gpt2-tiny';
import { maxAbsDiff, normals, setValues } from '../helpers/tiny';
import { BASE_MODEL, FIXTURE_LORA, fixtureAdapter } from '../fixtures/gpt2-tiny/make_adapter';

const golden = fixtureJson<Golden>('golden.json');
const peftGolden = fixtureJson<Golden & { modules: string[] }>('peft_golden.json');
const ids = golden.input_ids;
const committed = (): HfFiles => ({
  'adapter_config.json': fixtureBytes('adapter/adapter_config.json'),
  'adapter_model.safetensors': fixtureBytes('adapter/adapter_model.safetensors'),
});
const shapesOf = (st: Uint8Array) => [...readSafetensors(st).tensors].map(([name, t]) => [name, t.shape]);

let model: GPTModel;
const arch = () => model.arch;

/** A LoraSet with every B random (a fresh B = 0 would hide mistakes). */
function trainedLora(cfg: Partial<LoraConfig>, seed: number, layers?: number[]): LoraSet {
  const lora = new LoraSet(arch(), { ...FIXTURE_LORA, dropout: 0, ...cfg }, seed, layers);
  lora.adapters.forEach((ad, i) => setValues(ad.B, normals(ad.B.size, seed * 100 + i, 0.3)));
  return lora;
}

beforeAll(async () => {
  await initBackend('cpu');
  model = (await importHfGpt2(fixtureFiles(), { name: 'gpt2-tiny', tokenizer: fixtureTokenizer() })).model;
});
afterAll(() => {
  model.dispose();
  tf.disposeVariables();
});

describe('export: PEFT names, shapes and config', () => {
  it('writes exactly the tensors PEFT creates for this base model and config', async () => {
    const lora = fixtureAdapter(arch());
    const files = await exportPeftAdapter(lora, { baseModel: BASE_MODEL });
    const expected: [string, number[]][] = [];
    for (const i of [0, 1]) {
      const p = `base_model.model.transformer.h.${i}.`;
      expected.push(
        [p + 'attn.c_attn.lora_A.weight', [8, 16]], // q and v: rank 2·4, in C
        [p + 'attn.c_attn.lora_B.weight', [48, 8]], // out 3C
        [p + 'attn.c_proj.lora_A.weight', [4, 16]],
        [p + 'attn.c_proj.lora_B.weight', [16, 4]],
        [p + 'mlp.c_fc.lora_A.weight', [4, 16]],
        [p + 'mlp.c_fc.lora_B.weight', [64, 4]],
        [p + 'mlp.c_proj.lora_A.weight', [4, 64]],
        [p + 'mlp.c_proj.lora_B.weight', [16, 4]],
      );
    }
    expect(shapesOf(files['adapter_model.safetensors'])).toEqual(expected);
    expect(readSafetensors(files['adapter_model.safetensors']).metadata).toEqual({ format: 'pt' });
    expect(JSON.parse(files['adapter_config.json'])).toEqual({
      alpha_pattern: { c_attn: 16 }, // 2 fused targets: alpha' = 2·8 so alpha'/r' = 16/8 = 8/4
      base_model_name_or_path: BASE_MODEL,
      bias: 'none',
      fan_in_fan_out: true,
      inference_mode: true,
      init_lora_weights: true,
      layers_pattern: null,
      layers_to_transform: null,
      lora_alpha: 8,
      lora_dropout: 0.05,
      modules_to_save: null,
      peft_type: 'LORA',
      r: 4,
      rank_pattern: { c_attn: 8 },
      revision: null,
      target_modules: ['c_attn', 'attn.c_proj', 'c_fc', 'mlp.c_proj'],
      task_type: 'CAUSAL_LM',
      use_dora: false,
      use_rslora: false,
    });
    // the files in tests/fixtures are this exporter's output (make_adapter.ts)
    expect(files['adapter_config.json']).toBe(
      new TextDecoder().decode(committed()['adapter_config.json'] as Uint8Array),
    );
    const fresh = readSafetensors(files['adapter_model.safetensors']).tensors;
    for (const [name, t] of readSafetensors(committed()['adapter_model.safetensors'] as Uint8Array).tensors)
      expect(maxAbsDiff(fresh.get(name)!.data, t.data), name).toBeLessThan(1e-7);
    lora.dispose();
  });

  it('stacks q/k/v into c_attn: A rows by target, B block-structured with a zero slice for k', async () => {
    const lora = trainedLora({ targets: ['q', 'v'], rank: 2 }, 4);
    const st = readSafetensors(
      (await exportPeftAdapter(lora, { baseModel: 'x' }))['adapter_model.safetensors'],
    ).tensors;
    const A = st.get('base_model.model.transformer.h.1.attn.c_attn.lora_A.weight')!; // [4, 16]
    const B = st.get('base_model.model.transformer.h.1.attn.c_attn.lora_B.weight')!; // [48, 4]
    const [aq, bq, av, bv] = await Promise.all([
      lora.get(1, 'q')!.A.data(),
      lora.get(1, 'q')!.B.data(),
      lora.get(1, 'v')!.A.data(),
      lora.get(1, 'v')!.B.data(),
    ]);
    const C = 16;
    for (let i = 0; i < C; i++) {
      for (let j = 0; j < 2; j++) {
        expect(A.data[j * C + i]).toBe(aq[i * 2 + j]); // group 0 = q
        expect(A.data[(2 + j) * C + i]).toBe(av[i * 2 + j]); // group 1 = v
      }
    }
    for (let o = 0; o < 3 * C; o++) {
      for (let g = 0; g < 2; g++) {
        for (let j = 0; j < 2; j++) {
          const value = B.data[o * 4 + g * 2 + j];
          const slice = Math.floor(o / C); // 0 q, 1 k, 2 v
          const want = g === 0 && slice === 0 ? bq[j * C + o] : g === 1 && slice === 2 ? bv[j * C + o - 2 * C] : 0;
          expect(value).toBe(want);
        }
      }
    }
    lora.dispose();
  });

  it('rsLoRA and a layer subset: alpha_pattern alpha·√n, layers_to_transform', async () => {
    const lora = trainedLora({ targets: ['q', 'k', 'v'], rank: 2, alpha: 3, rsLora: true }, 5, [1]);
    const files = await exportPeftAdapter(lora, { baseModel: 'x' });
    const cfg = JSON.parse(files['adapter_config.json']);
    expect(cfg).toMatchObject({
      r: 2,
      lora_alpha: 3,
      use_rslora: true,
      rank_pattern: { c_attn: 6 },
      layers_to_transform: [1],
      layers_pattern: 'h',
      target_modules: ['c_attn'],
    });
    expect(cfg.alpha_pattern.c_attn / Math.sqrt(6)).toBeCloseTo(3 / Math.sqrt(2), 14);
    expect(shapesOf(files['adapter_model.safetensors'])).toEqual([
      ['base_model.model.transformer.h.1.attn.c_attn.lora_A.weight', [6, 16]],
      ['base_model.model.transformer.h.1.attn.c_attn.lora_B.weight', [48, 6]],
    ]);
    lora.dispose();
  });
});

describe("PEFT's formula, computed in PyTorch (peft_reference.py)", () => {
  it('selects the same modules and its merged model matches our adapter model within 1e-4', async () => {
    expect(peftGolden.modules).toEqual(
      [0, 1].flatMap((i) =>
        ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'].map((m) => `transformer.h.${i}.${m}`),
      ),
    );
    // the adapter as built (make_adapter.ts), and as read back from the committed PEFT files
    for (const lora of [fixtureAdapter(arch()), importPeftAdapter(committed(), arch()).lora]) {
      const ours = await fixtureLogits(model, arch(), ids, lora);
      expect(maxAbsDiff(ours, golden.logits)).toBeGreaterThan(0.1); // the adapter really changes the model
      expect(maxAbsDiff(ours, peftGolden.logits)).toBeLessThan(1e-4);
      lora.dispose();
    }
  });

  it('our merged weights equal PEFT-merged weights (W + transpose(B·A)·scaling) within 1e-6', async () => {
    const { lora } = importPeftAdapter(committed(), arch());
    const ours = readSafetensors((await exportMergedHfGpt2(model, lora, { eosId: 49 }))['model.safetensors']).tensors;
    const peft = readSafetensors(fixtureBytes('peft_merged.safetensors')).tensors;
    expect(peft.size).toBe(ours.size);
    for (const [name, t] of peft)
      expect(maxAbsDiff(ours.get(`transformer.${name}`)!.data, t.data), name).toBeLessThan(1e-6);
    lora.dispose();
  });

  it('refuses to export a merged model from an adapter with a non-finite weight, naming the adapter', async () => {
    const lora = trainedLora({}, 6);
    const broken = lora.adapters[lora.adapters.length - 1];
    const values = (await broken.B.data()) as Float32Array;
    setValues(
      broken.B,
      Array.from(values, (x, i) => (i === 0 ? NaN : x)),
    );
    await expect(exportMergedHfGpt2(model, lora, { eosId: 49 })).rejects.toThrow(
      new RegExp(
        `LoRA adapter ${broken.target} of block ${broken.layer} would make .* non-finite .*no merged model was exported`,
      ),
    );
    lora.dispose();
  });
});

describe('import', () => {
  const cases: [string, Partial<LoraConfig>, number[] | undefined][] = [
    ['the fixture config (q, v, o, up, down)', {}, undefined],
    ['q, k, v with rsLoRA', { targets: ['q', 'k', 'v'], rank: 3, alpha: 5, rsLora: true }, undefined],
    ['v alone', { targets: ['v'], rank: 2, alpha: 2 }, undefined],
    ['k and down on block 1 only', { targets: ['k', 'down'], rank: 1, alpha: 7 }, [1]],
  ];
  it.each(cases)(
    'export → import round-trips %s: same config, identical logits, identical files',
    async (_, cfg, layers) => {
      const lora = trainedLora(cfg, 6, layers);
      const files = await exportPeftAdapter(lora, { baseModel: BASE_MODEL });
      const back = importPeftAdapter(files, arch(), 99);
      expect(back.baseModel).toBe(BASE_MODEL);
      expect(back.lora.cfg).toEqual(lora.cfg);
      expect(back.lora.scale).toBe(lora.scale);
      expect(back.lora.adapters.map((a) => `${a.layer}.${a.target}`)).toEqual(
        lora.adapters.map((a) => `${a.layer}.${a.target}`),
      );
      expect(await fixtureLogits(model, arch(), ids, back.lora)).toEqual(await fixtureLogits(model, arch(), ids, lora));
      const again = await exportPeftAdapter(back.lora, { baseModel: BASE_MODEL });
      expect(again['adapter_config.json']).toBe(files['adapter_config.json']);
      expect(again['adapter_model.safetensors']).toEqual(files['adapter_model.safetensors']);
      lora.dispose();
      back.lora.dispose();
    },
  );

  it('a foreign adapter (full-rank c_attn, rank/alpha patterns, F16) is represented exactly', async () => {
    // What PEFT writes for LoraConfig(r=3, lora_alpha=6, target_modules=["c_attn", "c_proj"],
    // rank_pattern={"mlp.c_proj": 2}, alpha_pattern={"mlp.c_proj": 10}): c_proj matches both c_proj modules.
    const C = 16;
    const shapes: Record<string, [number, number]> = {
      'attn.c_attn': [C, 3 * C],
      'attn.c_proj': [C, C],
      'mlp.c_proj': [4 * C, C],
    };
    const rankOf = (m: string) => (m === 'mlp.c_proj' ? 2 : 3);
    const scaleOf = (m: string) => (m === 'mlp.c_proj' ? 10 / 2 : 6 / 3);
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    let seed = 1;
    for (const layer of [0, 1]) {
      for (const [m, [inDim, outDim]] of Object.entries(shapes)) {
        const r = rankOf(m);
        tensors.set(`base_model.model.transformer.h.${layer}.${m}.lora_A.weight`, {
          shape: [r, inDim],
          data: normals(r * inDim, seed++, 0.25),
        });
        tensors.set(`base_model.model.transformer.h.${layer}.${m}.lora_B.weight`, {
          shape: [outDim, r],
          data: normals(outDim * r, seed++, 0.3),
        });
      }
    }
    const st = writeSafetensors(tensors, { dtype: 'F16' });
    const config = {
      peft_type: 'LORA',
      r: 3,
      lora_alpha: 6,
      target_modules: ['c_attn', 'c_proj'],
      rank_pattern: { 'mlp.c_proj': 2 },
      alpha_pattern: { 'mlp.c_proj': 10 },
      fan_in_fan_out: true,
      bias: 'none',
      use_rslora: false,
      base_model_name_or_path: 'gpt2',
    };
    const { lora } = importPeftAdapter(
      { 'adapter_config.json': JSON.stringify(config), 'adapter_model.safetensors': st },
      arch(),
    );
    expect(lora.cfg).toMatchObject({ rank: 3, alpha: 6, targets: ['q', 'k', 'v', 'o', 'down'] as LoraTarget[] });
    // expected merged weights by PEFT's formula, from the F16 values as stored
    const stored = readSafetensors(st).tensors;
    const base = await model.weights();
    const merged = readSafetensors((await exportMergedHfGpt2(model, lora, { eosId: 49 }))['model.safetensors']).tensors;
    for (const layer of [0, 1]) {
      for (const [m, [inDim, outDim]] of Object.entries(shapes)) {
        const r = rankOf(m);
        const A = stored.get(`base_model.model.transformer.h.${layer}.${m}.lora_A.weight`)!.data;
        const B = stored.get(`base_model.model.transformer.h.${layer}.${m}.lora_B.weight`)!.data;
        const W = base.get(`h.${layer}.${m}.weight`)!.data;
        const want = new Float64Array(inDim * outDim);
        for (let i = 0; i < inDim; i++)
          for (let o = 0; o < outDim; o++) {
            let s = 0;
            for (let j = 0; j < r; j++) s += B[o * r + j] * A[j * inDim + i];
            want[i * outDim + o] = W[i * outDim + o] + scaleOf(m) * s;
          }
        expect(maxAbsDiff(merged.get(`transformer.h.${layer}.${m}.weight`)!.data, want), `${layer}.${m}`).toBeLessThan(
          1e-5,
        );
      }
    }
    lora.dispose();
  });

  it('refuses what it cannot represent, naming it', async () => {
    const lora = trainedLora({}, 7);
    const files = await exportPeftAdapter(lora, { baseModel: 'x' });
    lora.dispose();
    const cfg = JSON.parse(files['adapter_config.json']);
    const withConfig = (over: object): HfFiles => ({
      ...files,
      'adapter_config.json': JSON.stringify({ ...cfg, ...over }),
    });
    expect(() => importPeftAdapter(withConfig({ use_dora: true }), arch())).toThrow('use_dora = true is not supported');
    expect(() => importPeftAdapter(withConfig({ bias: 'lora_only' }), arch())).toThrow(
      'bias "lora_only" is not supported',
    );
    expect(() => importPeftAdapter(withConfig({ peft_type: 'IA3' }), arch())).toThrow(
      'peft_type "IA3" is not supported',
    );
    const t = readSafetensors(files['adapter_model.safetensors']).tensors;
    const withTensors = (edit: (m: Map<string, { shape: number[]; data: Float32Array }>) => void): HfFiles => {
      const m = new Map<string, { shape: number[]; data: Float32Array }>(t);
      edit(m);
      return { ...files, 'adapter_model.safetensors': writeSafetensors(m) };
    };
    expect(() =>
      importPeftAdapter(
        withTensors((m) =>
          m.set('base_model.model.lm_head.lora_A.weight', { shape: [4, 16], data: new Float32Array(64) }),
        ),
        arch(),
      ),
    ).toThrow('tensor "base_model.model.lm_head.lora_A.weight" is not a LoRA matrix');
    expect(() =>
      importPeftAdapter(
        withTensors((m) =>
          m.set('base_model.model.transformer.h.0.mlp.c_fc.lora_B.weight', {
            shape: [48, 4],
            data: new Float32Array(192),
          }),
        ),
        arch(),
      ),
    ).toThrow(
      'tensor "base_model.model.transformer.h.0.mlp.c_fc.lora_B.weight" has shape [48,4] but rank 4 on this model needs [64,4]',
    );
    expect(() =>
      importPeftAdapter(
        withTensors((m) => m.delete('base_model.model.transformer.h.1.attn.c_proj.lora_B.weight')),
        arch(),
      ),
    ).toThrow('transformer.h.1.attn.c_proj has lora_A but no lora_B');
    expect(() =>
      importPeftAdapter(
        withTensors((m) =>
          m.set('base_model.model.transformer.h.5.attn.c_proj.lora_A.weight', {
            shape: [4, 16],
            data: new Float32Array(64),
          }),
        ),
        arch(),
      ),
    ).toThrow('is for block 5, but the model has 2 blocks');
  });
});

describe('merged model as a Hugging Face GPT-2 folder', () => {
  it("loads back through the importer with the adapter model's logits (within 1e-5), the base untouched", async () => {
    const lora = fixtureAdapter(arch());
    const before = await fixtureLogits(model, arch(), ids);
    const withAdapter = await fixtureLogits(model, arch(), ids, lora);
    const files = await exportMergedHfGpt2(model, lora, { eosId: 49 });
    const merged = await importHfGpt2(files, { name: 'merged', tokenizer: fixtureTokenizer() });
    expect(maxAbsDiff(await fixtureLogits(merged.model, arch(), ids), withAdapter)).toBeLessThan(1e-5);
    expect(await fixtureLogits(model, arch(), ids)).toEqual(before);
    // without an adapter the export is the base model itself
    const base = await exportMergedHfGpt2(model, null, { eosId: 49 });
    const plain = gpt2WeightsFromHf(
      archFromHfConfig(base['config.json']),
      readSafetensors(base['model.safetensors']).tensors,
    );
    for (const [name, { data }] of await model.weights()) expect(plain.get(name)).toEqual(data);
    merged.model.dispose();
    lora.dispose();
  });
});
