// Our PEFT / Hugging Face exports checked by the real libraries (transformers, peft, PyTorch), and adapters
// made by PEFT loaded by our engine, on the tiny GPT-2 fixture. This file writes our side to a temp folder,
// tests/python/peft_check.py loads it, makes its own adapters, runs our exported train.py for two steps and
// writes result.json; this file then checks every number. Runs only when .venv/bin/python (or
// $LORA_PLAYGROUND_PYTHON) has the versions pinned in tests/python/requirements.txt (bash .ci/run installs
// them); otherwise it is skipped and says why.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend';
import { defaultConfig, mergeConfig, type LoraConfig } from '../../src/core/config';
import { importHfGpt2, type HfFiles } from '../../src/core/import/hf-gpt2';
import {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  exportMergedHfGpt2,
  exportPeftAdapter,
  importPeftAdapter,
} from '../../src/core/import/peft';
import { exportPythonProject } from '../../src/core/import/python-export';
import { LoraSet } from '../../src/core/model/lora';
import type { GPTModel } from '../../src/core/model/model';
import { fixtureFiles, fixtureJson, fixtureLogits, fixtureTokenizer, type Golden } from '../helpers/gpt2-tiny';
import { findPython } from '../helpers/python';
import { maxAbsDiff, normals, setValues } from '../helpers/tiny';

const ROOT = new URL('../..', import.meta.url).pathname;
const TOL = 1e-4;

const found = findPython();
if ('skip' in found) console.log(`python-peft.test.ts skipped: ${found.skip}`);

// Our adapters: name → LoRA settings (and layers). B random: a fresh B = 0 would hide every mistake.
const OUR_CASES: Record<string, { cfg: Partial<LoraConfig>; layers?: number[] }> = {
  qv: { cfg: { targets: ['q', 'v'], rank: 4, alpha: 8 } },
  all6: { cfg: { targets: ['q', 'k', 'v', 'o', 'up', 'down'], rank: 4, alpha: 8 } },
  rslora: { cfg: { targets: ['q', 'k', 'v', 'down'], rank: 2, alpha: 3, rsLora: true }, layers: [1] },
};

interface Result {
  versions: Record<string, string>;
  base_vs_golden: number;
  ours: Record<
    string,
    { adapter: number; merged: number; peft_merge_and_unload: number; vs_base: number; modules: string[] }
  >;
  py: Record<string, { dir: string; logits: number[] }>;
  train: { dir: string; global_step: number; losses: number[]; logits: number[]; files: string[] };
}

const golden = fixtureJson<Golden>('golden.json');
const ids = golden.input_ids;
let dir: string;
let model: GPTModel;
let result: Result;
let pythonLog = '';

const readAdapter = (d: string): HfFiles => ({
  [ADAPTER_CONFIG]: readFileSync(join(d, ADAPTER_CONFIG), 'utf8'),
  [ADAPTER_WEIGHTS]: new Uint8Array(readFileSync(join(d, ADAPTER_WEIGHTS))),
});

('skip' in found ? describe.skip : describe)(
  `against transformers + peft (${
    'skip' in found
      ? `skipped: ${found.skip}`
      : `pinned ${Object.entries(found.pins)
          .filter(([k]) => ['transformers', 'peft', 'accelerate'].includes(k))
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`
  })`,
  () => {
    beforeAll(async () => {
      const { python } = found as { python: string };
      await initBackend('cpu');
      model = (await importHfGpt2(fixtureFiles(), { name: 'gpt2-tiny', tokenizer: fixtureTokenizer() })).model;
      dir = mkdtempSync(join(tmpdir(), 'lora-python-'));
      mkdirSync(join(dir, 'base'));
      for (const f of ['config.json', 'model.safetensors'])
        copyFileSync(join(ROOT, 'tests/fixtures/gpt2-tiny', f), join(dir, 'base', f));
      const write = (path: string, data: string | Uint8Array) => {
        mkdirSync(join(dir, path, '..'), { recursive: true });
        writeFileSync(join(dir, path), data);
      };
      // our side: each adapter, its merged model and our logits with it
      for (const [name, { cfg, layers }] of Object.entries(OUR_CASES)) {
        const lora = new LoraSet(
          model.arch,
          { rank: 4, alpha: 8, dropout: 0, targets: ['q', 'v'], rsLora: false, ...cfg },
          11,
          layers,
        );
        lora.adapters.forEach((ad, i) => setValues(ad.B, normals(ad.B.size, 1000 + i, 0.3)));
        for (const [f, data] of Object.entries(await exportPeftAdapter(lora, { baseModel: join(dir, 'base') })))
          write(`ours/${name}/adapter/${f}`, data);
        for (const [f, data] of Object.entries(await exportMergedHfGpt2(model, lora, { eosId: 0 })))
          write(`ours/${name}/merged/${f}`, data);
        write(`ours/${name}/logits.json`, JSON.stringify([...(await fixtureLogits(model, model.arch, ids, lora))]));
        lora.dispose();
      }
      // our Python project for a LoRA run on the fixture: two steps
      const config = mergeConfig(defaultConfig(), {
        model: { name: 'gpt2-tiny', arch: model.arch },
        lora: { rank: 2, alpha: 4, targets: ['q', 'v', 'down'], dropout: 0 },
        train: { maxSteps: 2, batchSize: 2, lr: 0.05, warmupSteps: 0, seed: 3 },
        eval: { everySteps: 1, general: false, maxBatches: 1 },
        data: { separator: '=' },
      });
      const records = Array.from({ length: 10 }, (_, i) => ({
        id: `r${i}`,
        prompt: `${i}+${i}`,
        completion: String(2 * i),
      }));
      const project = exportPythonProject(
        config,
        { train: records.slice(0, 6), val: records.slice(6, 8), test: records.slice(8) },
        { baseModel: join(dir, 'base'), outputDir: 'run' },
      );
      for (const [f, data] of Object.entries(project)) write(`project/${f}`, data);
      write(
        'ids.json',
        JSON.stringify({ input_ids: ids, golden: golden.logits, chars: fixtureTokenizer().chars, output_dir: 'run' }),
      );

      const run = spawnSync(python, [join(ROOT, 'tests/python/peft_check.py'), dir], {
        encoding: 'utf8',
        timeout: 240_000,
        env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' },
      });
      pythonLog = `${run.stdout}\n${run.stderr}`;
      if (run.status !== 0) throw new Error(`peft_check.py failed (status ${run.status}):\n${pythonLog.slice(-4000)}`);
      result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
      const ours = Object.entries(result.ours).map(
        ([k, r]) =>
          `${k}: adapter ${r.adapter.toExponential(1)}, merged ${r.merged.toExponential(1)}, effect ${r.vs_base.toFixed(2)}`,
      );
      console.log(
        `max |logit difference| vs PEFT/transformers (${JSON.stringify(result.versions)}): ${ours.join('; ')}; train.py losses ${result.train.losses.map((x) => x.toFixed(4)).join(', ')}`,
      );
    }, 300_000);
    afterAll(() => {
      model?.dispose();
      tf.disposeVariables();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('runs the pinned versions, and transformers computes the fixture as our golden logits do', () => {
      const { pins } = found as { pins: Record<string, string> };
      expect(result.versions.transformers).toBe(pins.transformers);
      expect(result.versions.peft).toBe(pins.peft);
      expect(result.versions.torch).toMatch(/^1\.13/);
      expect(result.base_vs_golden).toBeLessThan(TOL);
    });

    it.each(Object.keys(OUR_CASES))(
      'our %s adapter loads with PeftModel.from_pretrained and gives our logits within 1e-4',
      (name) => {
        const r = result.ours[name];
        expect(r.vs_base).toBeGreaterThan(0.1); // the adapter changes the output: a real comparison
        expect(r.adapter).toBeLessThan(TOL);
        expect(r.peft_merge_and_unload).toBeLessThan(TOL);
      },
    );

    it('PEFT adapts exactly the modules our targets mean', () => {
      const m = (layers: number[], mods: string[]) =>
        layers.flatMap((l) => mods.map((x) => `base_model.model.transformer.h.${l}.${x}`)).sort();
      expect(result.ours.qv.modules).toEqual(m([0, 1], ['attn.c_attn']));
      expect(result.ours.all6.modules).toEqual(m([0, 1], ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj']));
      expect(result.ours.rslora.modules).toEqual(m([1], ['attn.c_attn', 'mlp.c_proj'])); // layers_to_transform [1]
    });

    it.each(Object.keys(OUR_CASES))(
      'our merged %s model loads with GPT2LMHeadModel.from_pretrained and gives our logits',
      (name) => {
        expect(result.ours[name].merged).toBeLessThan(TOL);
      },
    );

    it.each(['qv', 'all', 'rslora'])(
      "a PEFT adapter made with get_peft_model (%s) loads into our engine with PEFT's logits",
      async (name) => {
        const py = result.py[name];
        const { lora } = importPeftAdapter(readAdapter(py.dir), model.arch);
        const base = await fixtureLogits(model, model.arch, ids);
        const ours = await fixtureLogits(model, model.arch, ids, lora);
        expect(maxAbsDiff(base, py.logits)).toBeGreaterThan(0.1); // PEFT's random B changes the output
        expect(maxAbsDiff(ours, py.logits)).toBeLessThan(TOL);
        lora.dispose();
      },
    );

    it("our exported train.py trains two steps on CPU and writes an adapter our engine loads with PEFT's logits", async () => {
      const t = result.train;
      expect(t.global_step).toBe(2);
      expect(t.losses).toHaveLength(2);
      expect(t.losses.every(Number.isFinite)).toBe(true);
      expect(t.files).toEqual(expect.arrayContaining([ADAPTER_CONFIG, ADAPTER_WEIGHTS]));
      const { lora } = importPeftAdapter(readAdapter(t.dir), model.arch);
      expect([...lora.cfg.targets]).toEqual(['q', 'k', 'v', 'down']); // PEFT trained all of c_attn (train.py says so)
      const base = await fixtureLogits(model, model.arch, ids);
      expect(maxAbsDiff(base, t.logits)).toBeGreaterThan(1e-3); // two steps moved B off zero
      expect(maxAbsDiff(await fixtureLogits(model, model.arch, ids, lora), t.logits)).toBeLessThan(TOL);
      lora.dispose();
    });
  },
);
