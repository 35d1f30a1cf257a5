// The page's engine (createTrainerApi, what the worker exposes) in Node: the shipped tiny-world model read from
// public/, a few small steps on wasm. A run is paused, sampled and stopped; an adapter goes out as PEFT files and
// comes back in; a broken backend is refused with its reason and a lost GPU device is reported.

import { readdirSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStore, type FileStore } from '../../src/api/model-store';
import { createTrainerApi, importedModelName } from '../../src/api/trainer-api';
import { diskLoader } from '../../src/core/assets';
import { defaultConfig, mergeConfig, type DeepPartial, type RunConfig } from '../../src/core/config';
import { unpackSteps, type GenerateRequest, type Progress, type RunListener, type RunStart } from '../../src/protocol';
import { registerLostDevice, registerZeroing } from '../helpers/backends';

/** tiny-world on wasm, batch 2, short evaluations: each step takes tens of milliseconds. */
const small = (over: DeepPartial<RunConfig> = {}): RunConfig =>
  mergeConfig(
    defaultConfig(),
    {
      model: { name: 'tiny-world', backend: 'wasm' },
      train: { batchSize: 2, maxSteps: 4 },
      eval: { everySteps: 2, maxBatches: 1, general: false, maxNewTokens: 8 },
    },
    over,
  );
const greedy: GenerateRequest = {
  prompt: 'Mia has a blue kite. What colour is the kite?\nA: ',
  maxTokens: 12,
  temperature: 0,
  topK: 0,
  stop: ['\n'],
  seed: 0,
};
const quiet: RunListener = { started: () => undefined, progress: () => undefined };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 60_000) {
  for (const t0 = Date.now(); !cond(); await sleep(20))
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
}

async function wasmApi() {
  const api = createTrainerApi({ loader: await diskLoader() });
  const { report, capabilities } = await api.init('wasm');
  expect(report.backend).toBe('wasm');
  expect(capabilities.webgpu).toBeTruthy(); // no GPU probe in Node: both say why not
  return api;
}

describe('a run through the API', () => {
  it('loads tiny-world, trains, samples mid-run, pauses (no step while paused), samples, and stops with every step in its history', async () => {
    const api = await wasmApi();
    const { model } = await api.loadModel(small());
    expect(model).toMatchObject({ name: 'tiny-world', tokenizer: 'char', numParams: 214_592 });

    const starts: RunStart[] = [];
    const progress: Progress[] = [];
    const steps = () => progress.flatMap((p) => unpackSteps(p.steps));
    const samples = () => progress.flatMap((p) => p.samples);
    const running = api.start(small({ train: { maxSteps: 500 } }), null, {
      started: (s) => void starts.push(s),
      progress: (p) => void progress.push(p),
    });
    await until('a sample', () => samples().length > 0);
    // a sample mid-run waits for the step under way and reads the weights between two steps
    expect((await api.generate(greedy, true)).tokens).toBeGreaterThan(0);
    await api.pause();
    await sleep(600); // the step under way finishes and the batcher's last message arrives
    const held = steps().length;
    await sleep(600);
    expect(steps().length).toBe(held);

    // a sample while paused reads still weights: the same greedy answer twice
    const a = await api.generate(greedy, true);
    const b = await api.generate(greedy, true);
    expect(a.text).toBe(b.text);
    expect(a.tokens).toBeGreaterThan(0);

    await api.resume();
    await until('a step after resuming', () => steps().length > held);
    await api.stop();
    const { history, state } = await running;
    expect(state).toMatchObject({ model: { name: 'tiny-world' }, tuned: true, adapter: null, imported: [] });
    expect(history.end.reason).toBe('stopped');
    expect(history.steps.length).toBeGreaterThan(held);
    expect(history.steps.length).toBeLessThan(500);
    await sleep(400);
    expect(steps().map((s) => s.step)).toEqual(history.steps.map((s) => s.step)); // every step reached the listener

    // the trainer's own count, heard once before the first step
    expect(starts).toEqual([
      {
        totalSteps: 500,
        trainableParams: 4 * 2 * (64 * 4 + 4 * 64),
        totalParams: 214_592,
        state: { model, tuned: false, adapter: null, imported: [] },
      },
    ]); // rank 4 on q and v in 4 layers
    expect(history.trainableParams).toBe(starts[0].trainableParams);
    // the sample is the first validation question and the model's answer, apart
    const s = samples()[0];
    expect(s.step).toBe(2);
    expect(s.prompt).toMatch(/\?\nA: $/);
    expect(s.text.startsWith(s.prompt)).toBe(false);
  });

  it('exports the run as a PEFT adapter that, imported again, samples the same answers', async () => {
    const api = await wasmApi();
    await api.loadModel(small());
    const { history } = await api.start(small({ train: { maxSteps: 4, lr: 3e-2 } }), null, quiet);
    expect(history.end.reason).toBe('completed');
    const tuned = await api.generate(greedy, true);
    const { files } = await api.exportAdapter();
    expect(files.map((f) => f.name).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);

    // a fresh engine: the adapter goes onto the pretrained weights it was trained on
    const fresh = await wasmApi();
    await fresh.loadModel(small());
    const base = await fresh.generate(greedy, true); // no run and no adapter: the base model
    const state = await fresh.importAdapter(
      files.map((f) => ({
        name: f.name === 'adapter_config.json' ? 'adapter_config (1).json' : f.name,
        bytes: f.bytes,
      })),
    );
    expect(state).toMatchObject({
      model: { name: 'tiny-world' },
      tuned: false,
      adapter: { baseModel: 'tiny-world', rank: 4, targets: ['q', 'v'], layers: 4 },
    });
    expect((await fresh.generate(greedy, true)).text).toBe(tuned.text);
    expect((await fresh.generate(greedy, false)).text).toBe(base.text);
    // another model takes the adapter with it
    expect(
      await fresh.loadModel(small({ model: { name: 'random', arch: { nLayer: 1, nEmbd: 16, nHead: 2 } } })),
    ).toMatchObject({ model: { name: 'random' }, tuned: false, adapter: null });
    expect(await fresh.state()).toMatchObject({ adapter: null });
  });

  it('refuses to export before a run, and to train two runs at once', async () => {
    const api = await wasmApi();
    await api.loadModel(small());
    await expect(api.exportAdapter()).rejects.toThrow(/No run has been trained in this tab yet/);
    const first = api.start(small({ train: { maxSteps: 3 } }), null, quiet);
    await expect(api.start(small(), null, quiet)).rejects.toThrow(/already training/);
    await expect(api.exportPython()).rejects.toThrow(/A run is training/);
    expect((await first).history.end.reason).toBe('completed');
  });
});

describe('naming an imported model', () => {
  it("takes the chosen name, else the checkpoint's own, else local-<model_type>, and never a built-in model's", () => {
    expect(importedModelName('my-folder', '{"_name_or_path": "gpt2"}')).toBe('my-folder');
    expect(importedModelName('', new TextEncoder().encode('{"_name_or_path": "distilgpt2"}'))).toBe('distilgpt2');
    expect(importedModelName('', '{not json')).toBe('local-model'); // the import itself names the JSON error
    expect(importedModelName('', undefined)).toBe('local-model');
    expect(importedModelName('', '{"_name_or_path": "", "model_type": "llama"}')).toBe('local-llama');
    expect(importedModelName('', '{"model_type": "gpt2"}')).toBe('local-gpt2');
    expect(importedModelName('tiny-world', undefined)).toBe('tiny-world (imported)');
    expect(importedModelName('', '{"_name_or_path": "random"}')).toBe('random (imported)');
  });
});

describe('backends the API cannot train on', () => {
  beforeAll(() => {
    registerZeroing('zero-addn', 'AddN');
    registerLostDevice('lost-gpu', { reason: 'destroyed', message: 'the test dropped it' });
  });
  afterAll(() => {
    tf.removeBackend('zero-addn');
    tf.removeBackend('lost-gpu');
  });

  it('refuses a backend that reads back zeros, says why, and runs on the next one', async () => {
    const api = createTrainerApi({ loader: await diskLoader(), candidates: ['zero-addn', 'cpu'] });
    const { report } = await api.init('auto');
    expect(report.backend).toBe('cpu');
    expect(report.fellBack).toBe(true);
    expect(report.attempts[0]).toMatchObject({ backend: 'zero-addn', ok: false });
    expect(report.attempts[0].reason).toMatch(/training step read back zeros/);
  });

  it('fails to start, naming each backend and why, when none works; nothing else runs', async () => {
    const api = createTrainerApi({ loader: await diskLoader(), candidates: ['zero-addn'] });
    await expect(api.init('auto')).rejects.toThrow(
      /No TensorFlow.js backend could start \(zero-addn: a training step read back zeros/,
    );
    await expect(api.loadModel(small())).rejects.toThrow(/has not started yet: call init\(\) first/);
  });

  it('reports a lost GPU device through onFatal', async () => {
    const api = createTrainerApi({ loader: await diskLoader(), candidates: ['lost-gpu'] });
    const fatal: string[] = [];
    const { report } = await api.init('auto', (m) => void fatal.push(m));
    expect(report.backend).toBe('lost-gpu');
    await until('the fatal message', () => fatal.length > 0, 5000);
    expect(fatal).toEqual(['The GPU device was lost (destroyed: the test dropped it).']);
  });
});

describe('an imported model', () => {
  it('is imported again from its stored files after another model was loaded; a store that lost them says so', async () => {
    const held = memoryStore();
    let lost = false;
    const store: FileStore = {
      where: 'memory',
      put: (n, f) => held.put(n, f),
      get: async (n) => (lost ? undefined : held.get(n)),
      clear: () => held.clear(),
    };
    const api = createTrainerApi({ loader: await diskLoader(), store });
    await api.init('wasm');
    // a Llama checkpoint with its own tokenizer (tests/python/llama_check.py fixture)
    const dir = 'tests/fixtures/llama-tiny';
    const files = readdirSync(dir).map((name) => ({ name, bytes: new Uint8Array(readFileSync(`${dir}/${name}`)) }));
    expect((await api.importModel({ files, name: 'llama-tiny' })).model?.name).toBe('llama-tiny');
    expect(await held.get('llama-tiny')).toBeDefined(); // the files wait in the store, not in the workspace
    expect((await api.loadModel(small())).model?.name).toBe('tiny-world');
    const back = await api.loadModel(small({ model: { name: 'llama-tiny' } }));
    expect(back.model?.name).toBe('llama-tiny');
    expect(back.imported.map((m) => m.name)).toEqual(['llama-tiny']);
    await api.loadModel(small());
    lost = true;
    await expect(api.loadModel(small({ model: { name: 'llama-tiny' } }))).rejects.toThrow('import the model again');
  });
});
