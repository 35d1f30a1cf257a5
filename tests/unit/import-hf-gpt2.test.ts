// Hugging Face GPT-2 import: golden logits from an independent PyTorch forward (tests/fixtures/gpt2-tiny/
// make_fixture.py), the `transformer.` prefix and F16/BF16 paths, config mapping and refusals, errors that name
// the tensor and both shapes, export → import, the size estimate, the download helper, and Session.useModel.

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskLoader } from '../../src/core/assets';
import { initBackend } from '../../src/core/backend';
import { defaultConfig, mergeConfig } from '../../src/core/config';
import {
  archFromHfConfig,
  estimateSize,
  exportHfGpt2,
  fetchHfGpt2,
  gpt2WeightsFromHf,
  hfFileUrl,
  importHfGpt2,
  type HfFiles,
} from '../../src/core/import/hf-gpt2';
import { paramShapes } from '../../src/core/model/gpt';
import {
  bf16ToF32,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  readSafetensors,
  writeSafetensors,
  type Dtype,
} from '../../src/core/model/safetensors';
import { Session } from '../../src/core/session';
import { Rng } from '../../src/core/rng';
import {
  fixtureBytes,
  fixtureFiles,
  fixtureJson,
  fixtureLogits,
  fixtureTokenizer,
  type Golden,
} from '../helpers/gpt2-tiny';
import { maxAbsDiff } from '../helpers/tiny';

const golden = fixtureJson<Golden>('golden.json');
const hfConfig = fixtureJson<Record<string, unknown>>('config.json');
const ARCH = { vocabSize: 50, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16, mlpRatio: 4, layerNormEps: 1e-5 };
const GPT2_SMALL = {
  model_type: 'gpt2',
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
  n_positions: 1024,
  vocab_size: 50257,
  layer_norm_epsilon: 1e-5,
  activation_function: 'gelu_new',
};

const tensorsOf = (files: HfFiles) => readSafetensors(files['model.safetensors'] as Uint8Array).tensors;
/** The fixture's weights rewritten: names renamed/dropped/added by `edit`, all stored as `dtype`. */
function rewrite(
  edit: (t: Map<string, { shape: number[]; data: Float32Array }>) => void,
  dtype: Dtype = 'F32',
): HfFiles {
  const t = tensorsOf(fixtureFiles());
  edit(t);
  return {
    'config.json': fixtureBytes('config.json'),
    'model.safetensors': writeSafetensors(t, { dtype, metadata: { format: 'pt' } }),
  };
}
const importTiny = (files: HfFiles) => importHfGpt2(files, { name: 'gpt2-tiny', tokenizer: fixtureTokenizer() });
const errorOf = async (p: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

beforeAll(async () => {
  await initBackend('cpu');
});
afterAll(() => tf.disposeVariables());

describe('golden logits', () => {
  it('the fixture through the importer matches the PyTorch reference within 1e-4', async () => {
    const { model, config } = await importTiny(fixtureFiles());
    expect(config.arch).toEqual(ARCH);
    expect(golden.shape).toEqual([2, 16, 50]);
    const got = await fixtureLogits(model, config.arch, golden.input_ids);
    expect(Math.max(...golden.logits.map(Math.abs))).toBeGreaterThan(1); // non-trivial logits
    expect(maxAbsDiff(got, golden.logits)).toBeLessThan(1e-4);
    model.dispose();
  });

  it('accepts the `transformer.` prefix and a tied lm_head.weight', async () => {
    const files = rewrite((t) => {
      for (const [name, v] of [...t]) {
        t.delete(name);
        t.set(`transformer.${name}`, v);
      }
      t.set('lm_head.weight', t.get('transformer.wte.weight')!);
    });
    const { model, config } = await importTiny(files);
    expect(maxAbsDiff(await fixtureLogits(model, config.arch, golden.input_ids), golden.logits)).toBeLessThan(1e-4);
    model.dispose();
  });

  it.each([
    ['F16', f32ToF16, f16ToF32, 1e-2],
    ['BF16', f32ToBf16, bf16ToF32, 5e-2],
  ] as const)('reads %s weights as their exact float32 values', async (dtype, to, from, tol) => {
    const f32 = tensorsOf(fixtureFiles());
    const { model, config } = await importTiny(rewrite(() => {}, dtype));
    const weights = await model.weights();
    for (const [name] of paramShapes(config.arch)) {
      expect(weights.get(name)!.data, name).toEqual(f32.get(name)!.data.map((x) => from(to(x))));
    }
    // rounding the weights moves the logits only a little
    expect(maxAbsDiff(await fixtureLogits(model, config.arch, golden.input_ids), golden.logits)).toBeLessThan(tol);
    model.dispose();
  });
});

describe('config.json → ModelArch', () => {
  it('maps the GPT-2 fields, n_ctx when n_positions is absent, n_inner and the epsilon', () => {
    expect(archFromHfConfig(hfConfig)).toEqual(ARCH);
    const { n_positions: _, ...noPositions } = hfConfig;
    expect(archFromHfConfig({ ...noPositions, n_ctx: 12, n_inner: 32, layer_norm_epsilon: 1e-6 })).toEqual({
      ...ARCH,
      blockSize: 12,
      mlpRatio: 2,
      layerNormEps: 1e-6,
    });
    expect(archFromHfConfig(JSON.stringify({ ...hfConfig, activation_function: 'gelu_pytorch_tanh' }))).toEqual(ARCH);
  });

  it('refuses other architectures and GPT-2 variants it would compute differently', () => {
    expect(() => archFromHfConfig({ model_type: 'llama' })).toThrow(
      'model_type llama is not supported: only GPT-2-architecture models (gpt2, distilgpt2, gpt2-medium, ...) can be imported',
    );
    expect(() => archFromHfConfig({ ...hfConfig, activation_function: 'gelu' })).toThrow(
      'activation_function "gelu" is not supported',
    );
    expect(() => archFromHfConfig({ ...hfConfig, scale_attn_by_inverse_layer_idx: true })).toThrow(
      'scale_attn_by_inverse_layer_idx = true is not supported',
    );
    expect(() => archFromHfConfig({ ...hfConfig, tie_word_embeddings: false })).toThrow('tie_word_embeddings = false');
    expect(() => archFromHfConfig({ ...hfConfig, n_head: 3 })).toThrow('n_head = 3 is not valid');
    expect(() => archFromHfConfig('{not json')).toThrow('config.json: is not valid JSON');
  });

  it('estimateSize gives parameters and float32 bytes before any download (gpt2: 124,439,808)', () => {
    const small = estimateSize(GPT2_SMALL);
    expect(small.params).toBe(124_439_808);
    expect(small.bytesF32).toBe(4 * 124_439_808);
    expect(estimateSize({ ...GPT2_SMALL, n_layer: 6 }).params).toBe(81_912_576); // distilgpt2
    expect(estimateSize(hfConfig).params).toBe(
      paramShapes(ARCH).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0),
    );
  });
});

describe('mismatches are named', () => {
  it('a missing tensor names it and the shape the config needs', async () => {
    const msg = await errorOf(importTiny(rewrite((t) => t.delete('h.1.mlp.c_fc.bias'))));
    expect(msg).toContain('model.safetensors');
    expect(msg).toContain('"h.1.mlp.c_fc.bias" is missing');
    expect(msg).toContain('[64]');
  });

  it('a wrong shape names the tensor and both shapes', async () => {
    const msg = await errorOf(
      importTiny(rewrite((t) => t.set('wpe.weight', { shape: [8, 16], data: new Float32Array(128) }))),
    );
    expect(msg).toContain('"wpe.weight" has shape [8,16]');
    expect(msg).toContain('needs [16,16]');
  });

  it('tensors the config does not know, an untied head and a duplicate name are errors', async () => {
    expect(
      await errorOf(importTiny(rewrite((t) => t.set('h.2.ln_1.weight', { shape: [16], data: new Float32Array(16) })))),
    ).toContain('"h.2.ln_1.weight"');
    const untied = await errorOf(
      importTiny(rewrite((t) => t.set('lm_head.weight', { shape: [50, 16], data: new Float32Array(800) }))),
    );
    expect(untied).toContain('untied output heads are not supported');
    const twice = await errorOf(importTiny(rewrite((t) => t.set('transformer.ln_f.bias', t.get('ln_f.bias')!))));
    expect(twice).toContain('"ln_f.bias" appears twice');
  });

  it('files: no weights, pickle only, a vocabulary smaller than GPT-2 without a tokenizer', async () => {
    const cfg = fixtureBytes('config.json');
    expect(
      await errorOf(importHfGpt2({ 'config.json': cfg, 'pytorch_model.bin': new Uint8Array(8) }, { name: 'x' })),
    ).toContain('pytorch_model.bin (pickle) cannot be read safely');
    expect(await errorOf(importHfGpt2({ 'model.safetensors': new Uint8Array(8) }, { name: 'x' }))).toContain(
      'config.json: is missing',
    );
    expect(await errorOf(importHfGpt2(fixtureFiles(), { name: 'x' }))).toContain(
      "vocab_size 50 is smaller than GPT-2's 50257 tokens",
    );
    expect(
      await errorOf(
        importHfGpt2(
          { ...fixtureFiles(), 'model.safetensors': new Uint8Array(4) },
          { name: 'x', tokenizer: fixtureTokenizer() },
        ),
      ),
    ).toContain('model.safetensors: file is 4 bytes');
  });
});

describe('a GPT-2-vocabulary checkpoint gets the GPT-2 tokenizer', () => {
  const arch = { ...ARCH, vocabSize: 50257, nEmbd: 8, blockSize: 8 };
  const weights = () => {
    const rng = new Rng(5);
    return new Map(
      paramShapes(arch).map(([name, shape]) => [
        name,
        { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => rng.normal() * 0.1) },
      ]),
    );
  };
  const config = JSON.stringify({ ...hfConfig, vocab_size: 50257, n_embd: 8, n_positions: 8, n_ctx: 8 });

  it('loads it, checks tokenizer.json, and encodes with GPT-2 BPE', async () => {
    const st = writeSafetensors(weights());
    const vocab = { Hello: 15496, Ġworld: 995, '<|endoftext|>': 50256 };
    const loaded = await importHfGpt2(
      {
        'config.json': config,
        'model.safetensors': st,
        'tokenizer.json': JSON.stringify({ model: { type: 'BPE', vocab } }),
      },
      { name: 'gpt2-wide' },
    );
    expect(loaded.tokenizer.kind).toBe('gpt2-bpe');
    expect(loaded.tokenizer.encode('Hello world')).toEqual([15496, 995]);
    expect(loaded.config).toMatchObject({ name: 'gpt2-wide', tokenizer: 'gpt2-bpe', arch });
    loaded.model.dispose();
    const other = await errorOf(
      importHfGpt2(
        { 'config.json': config, 'model.safetensors': st, 'vocab.json': JSON.stringify({ ...vocab, Hello: 3 }) },
        { name: 'x' },
      ),
    );
    expect(other).toContain(`vocab.json: is not GPT-2's BPE vocabulary ("Hello" should be id 15496, found 3)`);
  });
});

describe('export as a Hugging Face GPT-2 folder', () => {
  it('round-trips through the importer bit for bit, with a config transformers understands', async () => {
    const { model, config } = await importTiny(fixtureFiles());
    const files = exportHfGpt2(config.arch, await model.weights(), { eosId: 49 });
    const cfg = JSON.parse(files['config.json']);
    expect(cfg).toMatchObject({
      model_type: 'gpt2',
      architectures: ['GPT2LMHeadModel'],
      n_embd: 16,
      n_layer: 2,
      n_head: 2,
      n_positions: 16,
      vocab_size: 50,
      n_inner: null,
      activation_function: 'gelu_new',
      layer_norm_epsilon: 1e-5,
      eos_token_id: 49,
      tie_word_embeddings: true,
    });
    const st = readSafetensors(files['model.safetensors']);
    expect(st.metadata).toEqual({ format: 'pt' });
    expect([...st.tensors.keys()].every((k) => k.startsWith('transformer.'))).toBe(true);
    expect(st.tensors.has('lm_head.weight')).toBe(false);
    const again = gpt2WeightsFromHf(archFromHfConfig(files['config.json']), st.tensors);
    for (const [name, { data }] of await model.weights()) expect(again.get(name), name).toEqual(data);
    model.dispose();
  });
});

describe('download from huggingface.co', () => {
  /** A fake hub serving the fixture; records every request. */
  function fakeHub(files: Record<string, Uint8Array>, chunk = 4096) {
    const calls: string[] = [];
    const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input);
      const method = init?.method ?? 'GET';
      calls.push(`${method} ${url}`);
      const name = url.split('/resolve/main/')[1];
      const body = files[name];
      if (!body) return new Response('not found', { status: 404 });
      const headers = { 'content-length': String(body.length) };
      if (method === 'HEAD') return new Response(null, { status: 200, headers });
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < body.length; i += chunk) c.enqueue(body.slice(i, i + chunk));
          c.close();
        },
      });
      return new Response(stream, { status: 200, headers });
    }) as typeof fetch;
    return { fetchFn, calls };
  }
  const hubFiles = () => ({
    'config.json': fixtureBytes('config.json'),
    'model.safetensors': fixtureBytes('model.safetensors'),
  });

  it('fetches config, checks the size with HEAD, streams the weights with progress', async () => {
    const { fetchFn, calls } = fakeHub(hubFiles());
    const progress: { file: string; loaded: number; total: number | null }[] = [];
    const files = await fetchHfGpt2('someone/gpt2-tiny', {
      fetch: fetchFn,
      onProgress: (p) => progress.push(p),
      maxBytes: 1e6,
    });
    expect(files['model.safetensors']).toEqual(hubFiles()['model.safetensors']);
    expect(calls.slice(0, 3)).toEqual([
      'GET https://huggingface.co/someone/gpt2-tiny/resolve/main/config.json',
      'HEAD https://huggingface.co/someone/gpt2-tiny/resolve/main/model.safetensors',
      'GET https://huggingface.co/someone/gpt2-tiny/resolve/main/model.safetensors',
    ]);
    const weights = progress.filter((p) => p.file === 'model.safetensors');
    expect(weights.length).toBeGreaterThan(3);
    expect(weights.at(-1)).toEqual({ file: 'model.safetensors', loaded: 35192, total: 35192 });
    const { model } = await importTiny(files);
    model.dispose();
  });

  it('refuses weights over maxBytes before downloading them', async () => {
    const { fetchFn, calls } = fakeHub(hubFiles());
    const msg = await errorOf(fetchHfGpt2('someone/gpt2-tiny', { fetch: fetchFn, maxBytes: 30_000 }));
    expect(msg).toContain('model.safetensors: is 35.2 kB');
    expect(msg).toContain('more than the 30 kB this device can hold');
    expect(calls).not.toContain('GET https://huggingface.co/someone/gpt2-tiny/resolve/main/model.safetensors');
  });

  it('says what is wrong: unknown id, unsupported model, no safetensors, bad id', async () => {
    expect(await errorOf(fetchHfGpt2('nobody/nothing', { fetch: fakeHub({}).fetchFn }))).toContain(
      'nobody/nothing: was not found on huggingface.co',
    );
    const llama = fakeHub({ 'config.json': new TextEncoder().encode('{"model_type":"llama"}') });
    expect(await errorOf(fetchHfGpt2('meta/llama', { fetch: llama.fetchFn }))).toContain(
      'model_type llama is not supported',
    );
    expect(llama.calls).toHaveLength(1);
    expect(
      await errorOf(fetchHfGpt2('x/y', { fetch: fakeHub({ 'config.json': fixtureBytes('config.json') }).fetchFn })),
    ).toContain('only models published as safetensors');
    expect(() => hfFileUrl('../etc', 'config.json')).toThrow('is not a Hugging Face model id');
    expect(hfFileUrl('distilgpt2', 'config.json')).toBe('https://huggingface.co/distilgpt2/resolve/main/config.json');
  });
});

describe('Session.useModel', () => {
  it('trains a run on an imported model', async () => {
    const session = await Session.create({ loader: await diskLoader(), backend: 'cpu' });
    const loaded = await importTiny(fixtureFiles());
    await session.useModel(loaded);
    const config = mergeConfig(defaultConfig(), {
      model: { name: 'gpt2-tiny', backend: 'cpu' },
      lora: { rank: 2, alpha: 4, targets: ['q', 'v'] },
      train: { maxSteps: 2, batchSize: 2 },
      data: { separator: '=', split: { train: 0.6, val: 0.2, test: 0.2 } },
      eval: { general: false, everySteps: 1 },
    });
    const records = Array.from({ length: 10 }, (_, i) => ({
      id: `r${i}`,
      prompt: `${i}+${i}`,
      completion: String(2 * i),
    }));
    const run = await session.prepare(config, records);
    expect(run.config.model.arch).toEqual(ARCH);
    const history = await session.train();
    expect(history.steps).toHaveLength(2);
    expect(Number.isFinite(history.steps[1].loss)).toBe(true);
    session.dispose();
  });
});
