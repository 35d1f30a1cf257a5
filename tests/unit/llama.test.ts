// The Llama layout (model/llama.ts) in the engine: its parameter count, training through the trainer on cpu and
// wasm (LoRA on all seven projections leaves the base bit-identical; full fine-tuning memorises), the wasm and cpu
// backends agreeing on logits and gradients, config checks, and every import refusal naming file and field.
// Logits against transformers: tests/unit/python-llama.test.ts.

import { readdirSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend';
import {
  LLAMA_LORA_TARGETS,
  configProblems,
  paramCount,
  validate,
  type DeepPartial,
  type ModelArch,
  type RunConfig,
} from '../../src/core/config';
import type { Example } from '../../src/core/data/types';
import { evalLoss } from '../../src/core/eval/evaluate';
import { archOfHfConfig, importHfModel } from '../../src/core/import/hf';
import { exportHfLlama } from '../../src/core/import/hf-llama';
import { countParams, logits, maskedCrossEntropy } from '../../src/core/model/gpt';
import { GPTModel } from '../../src/core/model/model';
import { CharTokenizer } from '../../src/core/tokenizer/char';
import { Trainer } from '../../src/core/train/trainer';
import { maxAbsDiff, randomExamples, snapshot, tinyConfig, tinyModel } from '../helpers/tiny';

/** 4 query heads of width 4 over 2 key/value heads, SwiGLU 24 wide, untied head: every Llama option at once. */
const LLAMA: ModelArch = {
  vocabSize: 11,
  blockSize: 8,
  nLayer: 2,
  nHead: 4,
  nEmbd: 16,
  mlpRatio: 1.5,
  layerNormEps: 1e-5,
  llama: { nKvHead: 2, intermediateSize: 24, ropeTheta: 10000, qkvBias: false, tiedHead: false },
};
const QWEN: ModelArch = { ...LLAMA, llama: { ...LLAMA.llama!, nKvHead: 1, qkvBias: true, tiedHead: true } };

/** A Trainer over a fresh tiny model; `gain` scales its weights (a base at init, std 0.02, barely moves its logits). */
function setup(over: DeepPartial<RunConfig>, train: Example[], arch = LLAMA, gain = 1) {
  const config = validate(tinyConfig({ model: { arch }, ...over }), train.length);
  const { model, lora, view } = tinyModel(config, 1);
  for (const [name, v] of Object.entries(model.params))
    if (!name.endsWith('norm.weight')) tf.tidy(() => v.assign(tf.mul(v, gain)));
  const trainer = new Trainer({
    model: view,
    config,
    data: { train, val: [] },
    tokenizer: new CharTokenizer(),
    backend: tf.getBackend() as 'cpu',
    totalParams: model.numParams,
  });
  return { model, lora, view, trainer, dispose: () => (model.dispose(), lora?.dispose()) };
}

beforeAll(async () => {
  await initBackend('cpu');
});

describe('the Llama layout', () => {
  it("paramCount's closed form equals the parameter shapes (tied and untied head, with and without q/k/v biases)", () => {
    for (const a of [LLAMA, QWEN]) expect(paramCount(a)).toBe(countParams(a));
    // SmolLM2-135M's shape: 134,515,008 parameters, as its model card says (135M)
    const smol: ModelArch = {
      vocabSize: 49152,
      blockSize: 2048,
      nLayer: 30,
      nHead: 9,
      nEmbd: 576,
      mlpRatio: 1536 / 576,
      layerNormEps: 1e-5,
      llama: { nKvHead: 3, intermediateSize: 1536, ropeTheta: 100000, qkvBias: false, tiedHead: true },
    };
    expect(paramCount(smol)).toBe(134_515_008);
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`LoRA on all seven projections trains on ${backend}: the base stays bit-identical, the loss falls`, async () => {
      await initBackend(backend);
      const s = setup(
        {
          train: { method: 'lora', maxSteps: 60, batchSize: 4, lr: 5e-2 },
          lora: { targets: [...LLAMA_LORA_TARGETS], rank: 4 },
        },
        randomExamples(4, LLAMA, 1),
        LLAMA,
        10,
      );
      const base = await snapshot(s.model.params);
      const h = await s.trainer.run();
      expect(s.lora!.adapters.length).toBe(2 * 7);
      for (const [name, w] of await snapshot(s.model.params)) expect(w, name).toEqual(base.get(name));
      expect(h.steps.at(-1)!.loss).toBeLessThan(h.steps[0].loss - 0.3);
      s.dispose();
      await initBackend('cpu');
    });
  }

  it('full fine-tuning memorises 4 sequences (Qwen2 options: q/k/v biases, tied head, 4 heads over 1)', async () => {
    const train = randomExamples(4, QWEN, 3);
    const s = setup(
      { train: { method: 'full', maxSteps: 150, batchSize: 4, lr: 2e-2, gradClip: 0, freeze: { embeddings: false } } },
      train,
      QWEN,
    );
    const h = await s.trainer.run();
    expect(h.steps[0].loss).toBeGreaterThan(2);
    expect(await evalLoss(s.view, train, 4)).toBeLessThan(0.1);
    s.dispose();
  });

  it('wasm and cpu give the same logits and the same gradient for every weight', async () => {
    const ids = [
      [1, 4, 2, 8, 5, 7, 3, 9],
      [0, 10, 6, 6, 2, 1, 4, 3],
    ];
    const run = async (backend: 'cpu' | 'wasm') => {
      await initBackend(backend);
      const m = GPTModel.random(QWEN, 4);
      // larger weights than init, so every gradient is well above float32 noise
      for (const v of Object.values(m.params)) {
        tf.tidy(() => v.assign(tf.mul(v, 10)));
        v.trainable = true; // GPTModel makes its weights frozen; the trainer opens those that train
      }
      const x = tf.tensor2d(ids, undefined, 'int32');
      const embedMode = backend === 'wasm' ? 'onehot' : 'gather'; // wasm has no gradient for gather
      const lg = (await tf.tidy(() => logits(m.params, QWEN, x)).data()) as Float32Array;
      const { grads } = tf.variableGrads(() =>
        maskedCrossEntropy(
          logits(m.params, QWEN, x, { embedMode }),
          tf.tensor1d(
            ids.flat().map((i) => (i + 1) % 11),
            'int32',
          ),
          tf.ones([16]),
        ),
      );
      const g = new Map<string, Float32Array>();
      for (const [name, v] of Object.entries(m.params)) g.set(name, (await grads[v.name].data()) as Float32Array);
      tf.dispose([x, ...Object.values(grads)]);
      m.dispose();
      return { lg, g };
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    await initBackend('cpu');
    expect(maxAbsDiff(wasm.lg, cpu.lg)).toBeLessThan(1e-4);
    for (const [name, g] of cpu.g) {
      const scale = Math.max(...g.map(Math.abs));
      expect(scale, `${name} has a gradient`).toBeGreaterThan(1e-6);
      expect(maxAbsDiff(wasm.g.get(name)!, g) / scale, name).toBeLessThan(1e-3);
    }
  });

  it('config checks: nKvHead must divide nHead; gate is a Llama target only', () => {
    const bad = tinyConfig({ model: { arch: { ...LLAMA, llama: { ...LLAMA.llama!, nKvHead: 3 } } } });
    expect(configProblems(bad).map((p) => p.message)).toContain(
      'model.arch.llama.nKvHead = 3 is not valid: an integer ≥ 1 that divides model.arch.nHead (4)',
    );
    const gpt2Gate = tinyConfig({ lora: { targets: ['q', 'gate'] } });
    expect(configProblems(gpt2Gate)[0].message).toBe(
      'lora.targets = ["q","gate"] is not valid: a non-empty list of distinct targets drawn from q, k, v, o, up, down',
    );
    expect(configProblems(tinyConfig({ model: { arch: LLAMA }, lora: { targets: ['q', 'gate'] } }))).toEqual([]);
  });
});

describe('importing a Llama-layout checkpoint: each refusal names the file and the field', () => {
  const config = {
    model_type: 'llama',
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 8,
    vocab_size: 11,
    rms_norm_eps: 1e-5,
    tie_word_embeddings: false,
    eos_token_id: 0,
  };
  const folder = async () => {
    const m = GPTModel.random(LLAMA, 2);
    const files: Record<string, string | Uint8Array> = exportHfLlama(LLAMA, await m.weights(), { eosId: 0 });
    m.dispose();
    return files;
  };
  const tokenizer = new CharTokenizer();

  it('reads config.json into the arch (and round-trips our own export)', async () => {
    expect(archOfHfConfig(config)).toEqual({ ...LLAMA, llama: { ...LLAMA.llama!, ropeTheta: 10000 } });
    const files = await folder();
    expect(archOfHfConfig(files['config.json'])).toEqual(LLAMA);
    const loaded = await importHfModel(files, { name: 'ours', tokenizer });
    const m = GPTModel.random(LLAMA, 2);
    for (const [name, w] of await snapshot(m.params))
      expect((await snapshot(loaded.model.params)).get(name)).toEqual(w);
    m.dispose();
    loaded.model.dispose();
  });

  it.each([
    [
      { model_type: 'phi3' },
      'config.json: model_type phi3 is not supported: GPT-2 (gpt2) and the Llama layout (llama, qwen2, mistral) can be imported',
    ],
    [{ rope_scaling: { rope_type: 'llama3', factor: 32 } }, 'config.json: rope_scaling type "llama3" is not supported'],
    [{ rope_scaling: { type: 'linear', factor: 2 } }, 'config.json: rope_scaling type "linear" is not supported'],
    [{ hidden_act: 'gelu' }, 'config.json: hidden_act "gelu" is not supported'],
    [
      { head_dim: 8 },
      'config.json: head_dim = 8 is not supported: this engine needs hidden_size / num_attention_heads (4)',
    ],
    [{ attention_bias: true }, 'config.json: attention_bias = true is not supported'],
    [{ num_key_value_heads: 3 }, 'config.json: num_key_value_heads = 3 is not valid'],
  ])('config %j', (over, message) => {
    expect(() => archOfHfConfig({ ...config, ...over })).toThrow(message);
  });

  it("the shipped tiny Llama's tokenizer: an empty list decodes to nothing, an id past the vocabulary to U+FFFD", async () => {
    const dir = 'tests/fixtures/llama-tiny/';
    const files = Object.fromEntries(
      readdirSync(dir).map((f) => [
        f,
        f.endsWith('.json') ? readFileSync(dir + f, 'utf8') : new Uint8Array(readFileSync(dir + f)),
      ]),
    );
    const { model, tokenizer } = await importHfModel(files, { name: 'llama-tiny' });
    expect(tokenizer.decode([])).toBe('');
    const ids = tokenizer.encode('Kai is a farmer.');
    expect(tokenizer.decode(ids)).toBe('Kai is a farmer.');
    expect(tokenizer.decode([...ids, tokenizer.vocabSize + 3])).toBe('Kai is a farmer.\uFFFD');
    model.dispose();
  });

  it('a missing tokenizer, a missing shard, a wrong shape, an unknown dtype', async () => {
    const files = await folder();
    await expect(importHfModel(files, { name: 'x' })).rejects.toThrow('tokenizer.json: is missing');
    const sharded = {
      ...files,
      'model.safetensors.index.json': JSON.stringify({
        weight_map: { 'model.norm.weight': 'model-00002.safetensors' },
      }),
    };
    delete (sharded as Record<string, unknown>)['model.safetensors'];
    await expect(importHfModel(sharded, { name: 'x', tokenizer })).rejects.toThrow(
      'model-00002.safetensors: is missing: model.safetensors.index.json lists it as a shard of the weights',
    );
    const wide = { ...files, 'config.json': JSON.stringify({ ...config, intermediate_size: 32 }) };
    await expect(importHfModel(wide, { name: 'x', tokenizer })).rejects.toThrow(
      'model.safetensors: tensor "layers.0.mlp.gate_proj.weight" has shape [16,24] but the config',
    );
    const bytes = files['model.safetensors'] as Uint8Array;
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n)).replace('"F32"', '"I8" ');
    const odd = new Uint8Array(bytes);
    odd.set(new TextEncoder().encode(header), 8);
    await expect(importHfModel({ ...files, 'model.safetensors': odd }, { name: 'x', tokenizer })).rejects.toThrow(
      /model\.safetensors: .*I8/,
    );
  });
});
