// Importing a model into the page and exporting what was trained on it: a tiny random GPT-2 in Hugging Face
// layout (written here, with GPT-2's 50,257-token vocabulary so the BPE tokenizer applies) is chosen in the Model
// panel, trains on wasm, and comes back out as PEFT, merged and Python files; an unsupported model_type is refused
// by name and leaves the page working; the committed tiny Llama folder (tests/fixtures/llama-tiny: sharded weights,
// its own tokenizer.json) imports with its tokenizer, trains LoRA on the gate too, and exports PEFT's Llama names.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ModelArch } from '../../src/core/config';
import { paramShapes } from '../../src/core/model/gpt';
import { readSafetensors, writeSafetensors } from '../../src/core/model/safetensors';
import { Rng } from '../../src/core/rng';
import { launch, watchErrors } from './chromium';
import { baseUrl, HAS_BUILTIN, hashOf, instrument, waitForEnd, waitForEngine, waitForModel } from './page';

const NAME = 'tiny-random-gpt2';
const ARCH: ModelArch = {
  vocabSize: 50257,
  blockSize: 64,
  nLayer: 2,
  nHead: 2,
  nEmbd: 16,
  mlpRatio: 4,
  layerNormEps: 1e-5,
};
const BUILT_IN = HAS_BUILTIN ? 'tiny-world' : 'random';
const RUN = {
  'model.backend': 'wasm',
  'data.dataset': 'qa',
  'train.batchSize': 2,
  'train.maxSteps': 3,
  'eval.everySteps': 3,
  'eval.maxBatches': 1,
  'eval.general': false,
};

/** config.json + model.safetensors of a seeded random GPT-2, names as GPT2LMHeadModel.save_pretrained writes them. */
function writeCheckpoint(dir: string) {
  const rng = new Rng(3);
  const tensors = new Map(
    paramShapes(ARCH).map(([name, shape]) => {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      const norm = /ln_\d|ln_f/.test(name) && name.endsWith('.weight');
      for (let i = 0; i < data.length; i++) data[i] = norm ? 1 : name.endsWith('.bias') ? 0 : (rng.next() - 0.5) * 0.04;
      return [`transformer.${name}`, { shape, data }];
    }),
  );
  const config = {
    _name_or_path: NAME,
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    vocab_size: 50257,
    n_embd: 16,
    n_layer: 2,
    n_head: 2,
    n_positions: 64,
    n_ctx: 64,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  fs.writeFileSync(path.join(dir, 'model.safetensors'), writeSafetensors(tensors, { metadata: { format: 'pt' } }));
}

describe('importing a GPT-2 model and exporting its adapter', () => {
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let dir: string;
  const downloads: Download[] = [];

  /** Clicks an export button and saves the files it downloads under their own names; returns their paths by name. */
  async function exportFiles(testId: string, count: number): Promise<Record<string, string>> {
    const before = downloads.length;
    await page.click(`[data-testid=${testId}]`);
    await expect.poll(() => downloads.length, { timeout: 60_000 }).toBe(before + count);
    const out: Record<string, string> = {};
    for (const d of downloads.slice(before)) {
      const to = path.join(dir, 'out', testId, d.suggestedFilename());
      await d.saveAs(to);
      out[d.suggestedFilename()] = to;
    }
    return out;
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lp-import-'));
    writeCheckpoint(dir);
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page.on('download', (d) => downloads.push(d));
    await instrument(page);
    errors = watchErrors(page);
  });
  afterAll(async () => {
    await browser?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('an unsupported model_type is refused by name and the built-in model stays chosen', async () => {
    await page.goto(baseUrl() + hashOf(HAS_BUILTIN ? RUN : { ...RUN, 'model.name': 'random' }));
    await waitForEngine(page, 'wasm');
    await waitForModel(page, BUILT_IN);
    const phi = JSON.stringify({ model_type: 'phi3', vocab_size: 32000, hidden_size: 16 });
    await page.setInputFiles('[data-testid=model-files]', [
      { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from(phi) },
    ]);
    await expect
      .poll(() => page.textContent('[data-testid=import-error]').catch(() => null), { timeout: 30_000 })
      .toContain('model_type phi3 is not supported: GPT-2 (gpt2) and the Llama layout (llama, qwen2, mistral)');
    expect(await page.textContent('[data-testid=model-loaded]')).toBe(BUILT_IN);
    expect(await page.inputValue('[data-field="model.name"] select')).toBe(BUILT_IN);
    expect(await page.isDisabled('[data-testid=start]')).toBe(false);
  });

  test('a dropped GPT-2 checkpoint becomes the base model, with its shape and the GPT-2 tokenizer', async () => {
    await page.setInputFiles('[data-testid=model-files]', [
      path.join(dir, 'config.json'),
      path.join(dir, 'model.safetensors'),
    ]);
    await waitForModel(page, NAME, 60_000);
    const info = await page.textContent('[data-testid=model-info]');
    expect(info).toContain('2 blocks × 16 wide, 64-token context, GPT-2 BPE tokenizer');
    expect(info).toContain('811,728 parameters'); // 50257·16 + 64·16 + 2 blocks + ln_f
    expect(await page.locator('[data-testid=import-error]').count()).toBe(0);
    expect(await page.inputValue('[data-field="model.name"] select')).toBe(NAME);
    // the picker keeps it: away to the built-in model and back (the worker imports it again from its files)
    await page.selectOption('[data-field="model.name"] select', BUILT_IN);
    await waitForModel(page, BUILT_IN);
    await page.selectOption('[data-field="model.name"] select', NAME);
    await waitForModel(page, NAME);
  });

  test('it trains a tiny LoRA run on wasm to completion', async () => {
    await page.click('[data-testid=start]');
    expect(await waitForEnd(page, 180_000)).toBe('completed');
    expect(await page.textContent('[data-testid=run-backend]')).toBe('wasm');
  });

  test('"PEFT adapter" downloads adapter_config.json and adapter_model.safetensors with PEFT names', async () => {
    const files = await exportFiles('export-adapter', 2);
    expect(Object.keys(files).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const config = JSON.parse(fs.readFileSync(files['adapter_config.json'], 'utf8'));
    expect(config.peft_type).toBe('LORA');
    expect(config.base_model_name_or_path).toBe(NAME);
    const names = [
      ...readSafetensors(new Uint8Array(fs.readFileSync(files['adapter_model.safetensors']))).tensors.keys(),
    ];
    expect(names).toContain('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight');
    for (const n of names) expect(n).toMatch(/^base_model\.model\.transformer\.h\.\d\./);
    expect(await page.textContent('[data-testid=export-saved]')).toContain('adapter_config.json');

    // and back in: the adapter loads, and the bench's fine-tuned side samples with it
    await page.setInputFiles('[data-testid=adapter-files]', Object.values(files));
    await expect
      .poll(() => page.textContent('[data-testid=adapter-loaded]').catch(() => null), { timeout: 30_000 })
      .toContain(`made for ${NAME}`);
    await page.fill('[data-testid=prompt]', 'Ada has a red cup. What colour is the cup?\nA: ');
    await page.click('[data-testid=generate]');
    await expect
      .poll(() => page.textContent('[data-testid=tuned-output]').catch(() => null), { timeout: 60_000 })
      .toContain('Ada has a red cup');
  });

  test('"Merged model" and "Python training project" download their files', async () => {
    const merged = await exportFiles('export-merged', 2);
    expect(Object.keys(merged).sort()).toEqual(['config.json', 'model.safetensors']);
    expect(JSON.parse(fs.readFileSync(merged['config.json'], 'utf8'))).toMatchObject({
      model_type: 'gpt2',
      n_embd: 16,
      n_layer: 2,
      vocab_size: 50257,
    });
    const python = await exportFiles('export-python', 3);
    expect(Object.keys(python).sort()).toEqual(['data.jsonl', 'requirements.txt', 'train.py']);
    expect(fs.readFileSync(python['train.py'], 'utf8')).toContain(NAME);
  });

  test('a Llama folder imports with its own tokenizer, trains LoRA on q, v and the gate, and exports Llama names', async () => {
    const folder = new URL('../fixtures/llama-tiny/', import.meta.url).pathname;
    await page.setInputFiles(
      '[data-testid=model-files]',
      fs.readdirSync(folder).map((f) => path.join(folder, f)),
    );
    await waitForModel(page, 'local-llama', 60_000);
    const info = await page.textContent('[data-testid=model-info]');
    expect(info).toContain("the checkpoint's own tokenizer, Llama layout (4 query heads over 2 key/value heads)");
    expect(await page.locator('[data-field="lora.targets"] input[value=gate]').count()).toBe(1);
    await page.check('[data-field="lora.targets"] input[value=gate]');
    await page.click('[data-testid=start]');
    expect(await waitForEnd(page, 180_000)).toBe('completed');
    const files = await exportFiles('export-adapter', 2);
    const config = JSON.parse(fs.readFileSync(files['adapter_config.json'], 'utf8'));
    expect(config.target_modules).toEqual(['q_proj', 'v_proj', 'gate_proj']);
    const names = [
      ...readSafetensors(new Uint8Array(fs.readFileSync(files['adapter_model.safetensors']))).tensors.keys(),
    ];
    for (const n of names)
      expect(n).toMatch(/^base_model\.model\.model\.layers\.\d\.(self_attn|mlp)\.\w+_proj\.lora_[AB]\.weight$/);
  });

  test('the page stayed clean: no uncaught errors', async () => {
    expect(errors).toEqual([]);
  });
});
