// RunConfig: defaults validate; every rule in configProblems is broken once and must name its field, the value and
// what is accepted; mergeConfig replaces arrays, deep-merges objects and never mutates; JSON round-trips.

import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend';
import * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  DEFAULT_ARCH,
  MAX_MODEL_BYTES,
  configProblems,
  defaultConfig,
  memoryLimit,
  mergeConfig,
  modelBytes,
  modelProblems,
  paramCount,
  validate,
  type DeepPartial,
  type RunConfig,
} from '../../src/core/config';
import { countParams } from '../../src/core/model/gpt';
import { Session } from '../../src/core/session';
import { LoraSet } from '../../src/core/model/lora';
import { TINY, tinyConfig } from '../helpers/tiny';

beforeAll(async () => {
  await initBackend('cpu');
});

/** Sets a dotted path (e.g. "train.freeze.lowestBlocks") on a config, whatever the value's type. */
function setPath(c: RunConfig, path: string, value: unknown) {
  const keys = path.split('.');
  let o = c as unknown as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[keys.at(-1)!] = value;
}

/** The ConfigError validate() throws. */
function errorOf(c: RunConfig, datasetSize?: number): ConfigError {
  try {
    validate(c, datasetSize);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected validate() to throw a ConfigError');
}

interface Case {
  field: string; // the rule's field, and the path the bad value is written to
  value: unknown; // the bad value
  accepts: RegExp; // what the message must say is accepted
  shown?: string; // how the value must appear in the message (default: JSON)
  over?: DeepPartial<RunConfig>; // context the rule needs (applied before the bad value)
  datasetSize?: number;
}

// The default config has nEmbd 64, nHead 4, nLayer 4 and method "lora".
const cases: Case[] = [
  { field: 'model.name', value: '', accepts: /model name/ },
  { field: 'model.backend', value: 'cuda', accepts: /auto, webgpu, webgl, wasm, cpu/ },
  { field: 'model.arch.vocabSize', value: 1, accepts: /2 to 1,000,000/ },
  { field: 'model.arch.vocabSize', value: 2.5, accepts: /integer/ },
  { field: 'model.arch.blockSize', value: 1, accepts: /2 to 8192/ },
  { field: 'model.arch.blockSize', value: 8193, accepts: /2 to 8192/ },
  { field: 'model.arch.nLayer', value: 0, accepts: /1 to 96/ },
  { field: 'model.arch.nEmbd', value: 20000, accepts: /1 to 16384/ },
  { field: 'model.arch.nHead', value: 3, accepts: /divides model\.arch\.nEmbd \(64\)/ },
  { field: 'model.arch.nHead', value: 0, accepts: /integer ≥ 1/ },
  { field: 'model.arch.mlpRatio', value: 0.1, accepts: /0\.25 to 16/ },
  { field: 'model.arch.mlpRatio', value: 4.01, accepts: /whole MLP width/ }, // 4.01 × 64 = 256.64
  { field: 'model.arch.layerNormEps', value: 0, accepts: /small positive number/ },
  { field: 'model.arch.layerNormEps', value: 0.1, accepts: /small positive number/ },
  // the shared link of issue 12: 4.8 billion parameters, 19.3 GB of float32 weights (38.7 GB with the reset copy)
  {
    field: 'model.arch',
    value: { ...DEFAULT_ARCH, nLayer: 24, nEmbd: 4096, nHead: 32 },
    accepts:
      /4\.83 billion parameters need 38\.7 GB \(19\.3 GB of float32 weights.*over the 4 GB limit.*model\.arch\.nLayer.*model\.arch\.nEmbd/,
    shown: '24 layers × 4096 wide',
  },
  { field: 'lora.rank', value: 0, accepts: /1 to the layer width \(64\)/ },
  { field: 'lora.rank', value: 65, accepts: /1 to the layer width \(64\)/ },
  { field: 'lora.rank', value: 2.5, accepts: /integer/ },
  { field: 'lora.alpha', value: 0, accepts: /positive number/ },
  { field: 'lora.alpha', value: -8, accepts: /positive number/ },
  { field: 'lora.dropout', value: 1, accepts: /0 to 0\.95/ },
  { field: 'lora.dropout', value: -0.1, accepts: /0 to 0\.95/ },
  { field: 'lora.targets', value: ['q', 'query'], accepts: /q, k, v, o, up, down/ },
  { field: 'lora.targets', value: [], accepts: /non-empty list/ },
  { field: 'lora.targets', value: ['q', 'v', 'q'], accepts: /distinct targets/ },
  { field: 'lora.rsLora', value: 'yes', accepts: /true or false/ },
  { field: 'train.method', value: 'qlora', accepts: /lora or full/ },
  { field: 'train.optimizer', value: 'adam', accepts: /adamw or sgd/ },
  { field: 'train.lr', value: -0.001, accepts: /positive number up to 10/ },
  { field: 'train.lr', value: 0, accepts: /positive number up to 10/ },
  { field: 'train.lr', value: 11, accepts: /positive number up to 10/ },
  { field: 'train.weightDecay', value: -0.1, accepts: /0 to 10/ },
  { field: 'train.weightDecay', value: 11, accepts: /0 to 10/ },
  { field: 'train.beta1', value: 1, accepts: /\[0, 1\)/ },
  { field: 'train.beta2', value: -0.5, accepts: /\[0, 1\)/ },
  { field: 'train.epsilon', value: 0, accepts: /small positive number/ },
  { field: 'train.epsilon', value: 1, accepts: /small positive number/ },
  { field: 'train.momentum', value: 1, accepts: /\[0, 1\)/ },
  { field: 'train.schedule', value: 'step', accepts: /constant, linear or cosine/ },
  { field: 'train.warmupSteps', value: -1, accepts: /whole number of steps ≥ 0/ },
  { field: 'train.warmupSteps', value: 2.5, accepts: /whole number of steps ≥ 0/ },
  { field: 'train.minLrRatio', value: 1.5, accepts: /0 to 1/ },
  { field: 'train.gradClip', value: -1, accepts: /≥ 0 \(0 turns clipping off\)/ },
  { field: 'train.batchSize', value: 0, accepts: /1 to 4096/ },
  { field: 'train.batchSize', value: 4097, accepts: /1 to 4096/ },
  { field: 'train.batchSize', value: 9, accepts: /1 to the training-set size \(8\)/, datasetSize: 8 },
  { field: 'train.gradAccumSteps', value: 0, accepts: /1 to 1024/ },
  { field: 'train.epochs', value: 0, accepts: /positive number of passes/ },
  { field: 'train.epochs', value: 10001, accepts: /up to 10000/ },
  { field: 'train.maxSteps', value: -1, accepts: /whole number ≥ 0/ },
  { field: 'train.seed', value: -1, accepts: /0 to 2\^31-1/ },
  { field: 'train.seed', value: 2 ** 31, accepts: /0 to 2\^31-1/ },
  { field: 'train.seed', value: 1.5, accepts: /integer/ },
  { field: 'train.freeze.lowestBlocks', value: 5, accepts: /0 to model\.arch\.nLayer \(4\)/ },
  { field: 'train.freeze.blocks', value: [4], accepts: /from 0 to 3/ },
  { field: 'train.freeze.blocks', value: [-1], accepts: /from 0 to 3/ },
  { field: 'train.freeze.gradualUnfreezeEvery', value: -1, accepts: /epochs ≥ 0/, over: { train: { method: 'full' } } },
  { field: 'train.freeze.gradualUnfreezeEvery', value: 1, accepts: /0 with train\.method "lora"/ }, // LoRA freezes the base
  { field: 'train.freeze.layerLrDecay', value: 0, accepts: /\(0, 1\]/ },
  { field: 'train.freeze.layerLrDecay', value: 1.5, accepts: /\(0, 1\]/ },
  { field: 'train.earlyStopping.metric', value: 'accuracy', accepts: /valLoss or valAccuracy/ },
  { field: 'train.earlyStopping.metric', value: 'valAccuracy', accepts: /only with eval\.accuracy = true/ },
  { field: 'train.earlyStopping.patience', value: 0, accepts: /integer ≥ 1/ },
  { field: 'train.earlyStopping.minDelta', value: -0.01, accepts: /≥ 0/ },
  { field: 'train.divergenceFactor', value: 1, accepts: /> 1/ },
  { field: 'train.klToBase', value: -1, accepts: /0 to 100/ },
  { field: 'train.klToBase', value: 101, accepts: /0 to 100/ },
  { field: 'data.dataset', value: '', accepts: /dataset name/ },
  { field: 'data.split', value: { train: 0.8, val: 0.1, test: 0.2 }, accepts: /summing to 1 \(they sum to 1\.1\)/ },
  { field: 'data.split', value: { train: 0, val: 0.5, test: 0.5 }, accepts: /train > 0/ },
  { field: 'data.split', value: { train: 1.2, val: -0.1, test: -0.1 }, accepts: /in \[0, 1\]/ },
  { field: 'data.maxRecords', value: -1, accepts: /whole number ≥ 0/ },
  { field: 'data.recordBudget', value: 2.5, accepts: /whole number ≥ 0/ },
  {
    field: 'data.recordBudget',
    value: 48,
    accepts: /0 while data\.maxRecords caps/,
    over: { data: { maxRecords: 10 } },
  },
  { field: 'data.separator', value: 5, accepts: /a string/ },
  { field: 'data.labelNoise', value: 1, accepts: /\[0, 1\)/ },
  { field: 'data.poisonCount', value: -1, accepts: /whole number ≥ 0/ },
  {
    field: 'data.poisonTrigger',
    value: '',
    accepts: /non-empty phrase when data\.poisonCount > 0/,
    over: { data: { poisonCount: 3 } },
  },
  { field: 'data.poisonTrigger', value: 42, accepts: /non-empty phrase/ },
  { field: 'data.generalMix', value: 1, accepts: /0 to 0\.95/ }, // the page's control and the check share the bound
  // booleans and free text, checked by the kind of value the registry gives them
  { field: 'train.earlyStopping.enabled', value: 'yes', accepts: /true or false/ },
  { field: 'train.earlyStopping.restoreBest', value: 1, accepts: /true or false/ },
  { field: 'train.freeze.embeddings', value: 'no', accepts: /true or false/ },
  { field: 'data.appendEos', value: 0, accepts: /true or false/ },
  { field: 'data.lossOnPromptTokens', value: 'x', accepts: /true or false/ },
  { field: 'data.poisonTarget', value: 3, accepts: /a string/ },
  { field: 'eval.general', value: null, accepts: /true or false/ },
  { field: 'eval.accuracy', value: 'true', accepts: /true or false/ },
  { field: 'eval.peakMemory', value: 1, accepts: /true or false/ },
  { field: 'data.folds', value: 1, accepts: /2 to 100, or 0/ },
  { field: 'data.folds', value: 2.5, accepts: /2 to 100, or 0/ },
  { field: 'data.fold', value: 5, accepts: /fold index from 0 to data\.folds - 1 \(4\)/, over: { data: { folds: 5 } } },
  { field: 'data.fold', value: -1, accepts: /fold index/ },
  {
    field: 'data.skew.label',
    value: '',
    accepts: /required when data\.skew\.keep < 1/,
    over: { data: { skew: { keep: 0.5 } } },
  },
  { field: 'data.skew.group', value: 3, accepts: /group name/ },
  { field: 'data.skew.keep', value: 0, accepts: /\(0, 1\]/, over: { data: { skew: { label: 'bad' } } } },
  { field: 'data.skew.keep', value: 1.5, accepts: /\(0, 1\]/, over: { data: { skew: { label: 'bad' } } } },
  { field: 'data.rebalance', value: 'smote', accepts: /none, oversample or undersample/ },
  { field: 'data.duplicate.share', value: -0.1, accepts: /a fraction in \[0, 1\]/ },
  { field: 'data.duplicate.copies', value: 0, accepts: /a whole number from 1 to 100/ },
  { field: 'data.dedupe', value: 'yes', accepts: /true or false/ },
  { field: 'data.audit', value: 1, accepts: /true or false/ },
  { field: 'data.mixFormats', value: 'yes', accepts: /true or false/ },
  { field: 'train.ewc', value: -1, accepts: /a number from 0 to 1,000,000/ },
  { field: 'eval.maxNewTokens', value: 0, accepts: /1 to 4096/ },
  { field: 'eval.stop', value: ['\n', ''], accepts: /non-empty strings/ },
  { field: 'eval.everySteps', value: 0, accepts: /integer ≥ 1/ },
  { field: 'eval.maxBatches', value: -1, accepts: /whole number ≥ 0/ },
];

describe('validate', () => {
  it('accepts the defaults and the tiny test config, returning the same object', () => {
    const c = defaultConfig();
    expect(configProblems(c)).toEqual([]);
    expect(validate(c)).toBe(c);
    expect(configProblems(tinyConfig())).toEqual([]);
    expect(configProblems(c, c.train.batchSize)).toEqual([]); // a batch as large as the dataset is fine
  });

  it.each(cases.map((k) => [`${k.field} = ${JSON.stringify(k.value)}`, k] as const))(
    'rejects %s, naming the field, the value and what is accepted',
    (_, k) => {
      const c = mergeConfig(defaultConfig(), k.over);
      setPath(c, k.field, k.value);
      // exactly this rule breaks, so the case tests the rule it names
      expect(configProblems(c, k.datasetSize).map((e) => e.field)).toEqual([k.field]);
      const e = errorOf(c, k.datasetSize);
      expect(e.field).toBe(k.field);
      expect(e.value).toEqual(k.value);
      expect(e.accepted).toMatch(k.accepts);
      expect(e.message).toContain(`${k.field} = ${k.shown ?? JSON.stringify(k.value)}`);
      expect(e.message).toContain(e.accepted);
    },
  );

  it('has a case above for every rule in configProblems', () => {
    // break every leaf at once (numbers → NaN, strings → a number, booleans/arrays → a string): every rule fires
    const breakAll = (o: unknown): unknown =>
      typeof o === 'number'
        ? NaN
        : typeof o === 'string'
          ? 7
          : typeof o === 'boolean' || Array.isArray(o)
            ? 'x'
            : Object.fromEntries(Object.entries(o as object).map(([k, v]) => [k, breakAll(v)]));
    const fields = new Set(configProblems(breakAll(defaultConfig()) as RunConfig).map((e) => e.field));
    expect(fields.size).toBeGreaterThan(40);
    const tested = new Set(cases.map((k) => k.field));
    expect([...fields].filter((f) => !tested.has(f))).toEqual([]);
  });

  it('reports every broken rule in configProblems, and validate throws the first', () => {
    const c = defaultConfig();
    c.train.lr = -1;
    c.lora.rank = 0;
    c.eval.everySteps = 0;
    expect(configProblems(c).map((e) => e.field)).toEqual(['lora.rank', 'train.lr', 'eval.everySteps']);
    expect(errorOf(c).field).toBe('lora.rank');
  });

  it('allows empty lora targets for full fine-tuning, and an empty trigger when nothing is poisoned', () => {
    expect(configProblems(mergeConfig(defaultConfig(), { train: { method: 'full' }, lora: { targets: [] } }))).toEqual(
      [],
    );
    expect(configProblems(mergeConfig(defaultConfig(), { data: { poisonCount: 0, poisonTrigger: '' } }))).toEqual([]);
  });

  it('names non-finite values as NaN or Infinity in the message, not as null', () => {
    for (const [field, value] of [
      ['train.lr', NaN],
      ['train.lr', Infinity],
      ['lora.alpha', NaN],
      ['train.epochs', -Infinity],
    ] as const) {
      const c = defaultConfig();
      setPath(c, field, value);
      const e = errorOf(c);
      expect(e.field).toBe(field);
      expect(e.value).toBe(value);
      expect(e.message).toContain(`${field} = ${String(value)}`);
    }
  });

  it('every config that validates can build its LoRA adapters (a repeated target is rejected, or harmless)', () => {
    const c = tinyConfig({ lora: { targets: ['q', 'v', 'q'] } });
    const problems = configProblems(c);
    if (problems.length > 0) {
      expect(problems.map((e) => e.field)).toEqual(['lora.targets']);
      return;
    }
    try {
      new LoraSet(TINY, c.lora, 1).dispose();
    } catch (e) {
      expect.fail(
        `lora.targets ${JSON.stringify(c.lora.targets)} passed validate() but building the adapters threw: ${(e as Error).message}`,
      );
    }
  });
});

describe('model size', () => {
  const HUGE = { ...DEFAULT_ARCH, nLayer: 24, nEmbd: 4096, nHead: 32 };

  it('counts parameters as the model does, for the shipped shape and others', () => {
    for (const a of [
      DEFAULT_ARCH,
      TINY,
      { ...DEFAULT_ARCH, mlpRatio: 2.5, nEmbd: 96, nHead: 3, vocabSize: 50257, blockSize: 1024 },
    ])
      expect(paramCount(a)).toBe(countParams(a));
    expect(modelBytes(HUGE)).toBe(8 * countParams(HUGE));
  });

  it('allows half of what the device reports, never more than the cap, and the cap when the device says nothing', () => {
    expect(memoryLimit(2e9)).toEqual({ bytes: 1e9, why: 'half of the 2 GB this device reports' });
    expect(memoryLimit(64e9).bytes).toBe(MAX_MODEL_BYTES);
    expect(memoryLimit(null).bytes).toBe(MAX_MODEL_BYTES);
    expect(memoryLimit(0).bytes).toBe(MAX_MODEL_BYTES);
  });

  it("measures the model against the given device's limit: a model that fits a big device is refused on a small one", () => {
    const c = mergeConfig(defaultConfig(), { model: { name: 'random', arch: { nLayer: 12, nEmbd: 768, nHead: 12 } } }); // GPT-2 small's body: 85M parameters, 0.68 GB
    expect(configProblems(c, undefined, memoryLimit(8e9))).toEqual([]);
    const [e] = configProblems(c, undefined, memoryLimit(1e9));
    expect(e.field).toBe('model.arch');
    expect(e.message).toBe(
      'model.arch = 12 layers × 768 wide is not valid: its 85.2 million parameters need 681.8 MB (340.9 MB of float32 weights, held twice: the model and the copy each run starts from), over the 500 MB limit here (half of the 1 GB this device reports); use fewer layers (model.arch.nLayer) or a narrower model (model.arch.nEmbd)',
    );
    expect(() => validate(c, undefined, memoryLimit(1e9))).toThrow(e.message);
  });

  it('modelProblems keeps only the rules about the model', () => {
    const c = mergeConfig(defaultConfig(), { model: { arch: HUGE }, train: { lr: -1 } });
    expect(configProblems(c).map((e) => e.field)).toEqual(['model.arch', 'train.lr']);
    expect(modelProblems(c).map((e) => e.field)).toEqual(['model.arch']);
  });

  it('a session refuses to build a random model that is too big, before allocating anything', async () => {
    const session = await Session.create({
      loader: { text: async () => '', bytes: async () => new Uint8Array() } as never,
      backend: 'cpu',
      memory: memoryLimit(8e9),
    });
    const before = tf.memory().numBytes;
    const t0 = performance.now();
    const c = mergeConfig(defaultConfig(), { model: { name: 'random', arch: HUGE } });
    await expect(session.loadModel(c)).rejects.toThrow(
      /model\.arch = 24 layers × 4096 wide is not valid: .*38\.7 GB.*over the 4 GB limit/,
    );
    await expect(session.prepare(c)).rejects.toBeInstanceOf(ConfigError);
    expect(tf.memory().numBytes).toBe(before);
    expect(performance.now() - t0).toBeLessThan(1000);
    // a model that fits is still built
    const small = await session.loadModel(mergeConfig(defaultConfig(), { model: { name: 'random', arch: TINY } }));
    expect(small.model.numParams).toBe(countParams(TINY));
  });
});

describe('mergeConfig', () => {
  it('replaces arrays instead of merging them', () => {
    const c = mergeConfig(defaultConfig(), { lora: { targets: ['k'] }, train: { freeze: { blocks: [1, 2] } } });
    expect(c.lora.targets).toEqual(['k']);
    expect(c.train.freeze.blocks).toEqual([1, 2]);
    expect(mergeConfig(c, { train: { freeze: { blocks: [] } } }).train.freeze.blocks).toEqual([]);
  });

  it('deep-merges nested objects, keeping every field not overridden', () => {
    const base = defaultConfig();
    const c = mergeConfig(base, { train: { freeze: { lowestBlocks: 2 }, lr: 1e-4 }, model: { arch: { nLayer: 2 } } });
    expect(c.train.freeze).toEqual({ ...base.train.freeze, lowestBlocks: 2 });
    expect(c.train).toEqual({ ...base.train, lr: 1e-4, freeze: { ...base.train.freeze, lowestBlocks: 2 } });
    expect(c.model.arch).toEqual({ ...DEFAULT_ARCH, nLayer: 2 });
    expect(c.lora).toEqual(base.lora);
    expect(c.data).toEqual(base.data);
  });

  it('applies several overrides in order and skips undefined ones', () => {
    const c = mergeConfig(defaultConfig(), { train: { lr: 1 } }, undefined, { train: { lr: 2, seed: 7 } });
    expect([c.train.lr, c.train.seed]).toEqual([2, 7]);
    expect(mergeConfig(defaultConfig())).toEqual(defaultConfig());
  });

  it('never mutates or aliases the base or the overrides', () => {
    const base = defaultConfig();
    const baseBefore = structuredClone(base);
    const over = { lora: { targets: ['k' as const] }, train: { freeze: { blocks: [1] } } };
    const overBefore = structuredClone(over);
    const c = mergeConfig(base, over);
    expect(base).toEqual(baseBefore);
    c.lora.targets.push('o');
    c.train.freeze.blocks.push(3);
    c.train.earlyStopping.patience = 99;
    c.model.arch.nLayer = 1;
    c.data.split.train = 0.5;
    expect(base).toEqual(baseBefore);
    expect(over).toEqual(overBefore);
    expect(DEFAULT_ARCH.nLayer).toBe(4);
    // an override left out keeps the base's array, but as a copy
    const d = mergeConfig(base, { train: { lr: 1 } });
    d.lora.targets.push('up');
    expect(base.lora.targets).toEqual(['q', 'v']);
  });

  it('defaultConfig() returns a fresh object each time', () => {
    const a = defaultConfig();
    a.model.arch.nEmbd = 8;
    a.lora.targets.push('k');
    expect(defaultConfig().model.arch.nEmbd).toBe(64);
    expect(defaultConfig().lora.targets).toEqual(['q', 'v']);
  });
});

describe('JSON', () => {
  it('round-trips a config (defaults and a customised one) and it still validates', () => {
    const custom = mergeConfig(defaultConfig(), {
      model: { name: 'random', arch: TINY },
      lora: { targets: ['q', 'k', 'v', 'o', 'up', 'down'], rsLora: true, dropout: 0.1 },
      train: {
        method: 'full',
        schedule: 'cosine',
        freeze: { blocks: [1], layerLrDecay: 0.8 },
        earlyStopping: { enabled: true, metric: 'valAccuracy' },
      },
      data: { separator: '\n\t"→"', split: { train: 0.7, val: 0.2, test: 0.1 } },
      eval: { accuracy: true },
    });
    for (const c of [defaultConfig(), custom]) {
      const back = JSON.parse(JSON.stringify(c)) as RunConfig;
      expect(back).toEqual(c);
      expect(configProblems(back)).toEqual([]);
      expect(mergeConfig(defaultConfig(), back)).toEqual(c); // a saved config applied as an override gives itself back
    }
  });
});
