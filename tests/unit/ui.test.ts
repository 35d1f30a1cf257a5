// The page's pure helpers: the URL hash round trip, config diffs as run labels, step packing for the worker
// protocol, EMA smoothing and chart columns.

import { describe, expect, test } from 'vitest';
import { configProblems, defaultConfig, mergeConfig } from '../../src/core/config';
import type { StepEvent } from '../../src/core/train/types';
import { packSteps, unpackSteps } from '../../src/protocol';
import { buildCharts, ema } from '../../src/ui/chart-data';
import { describeChanges, diffConfig } from '../../src/ui/config-diff';
import { checkFileSize } from '../../src/ui/files';
import { modelFit } from '../../src/ui/model-fit';
import { applyOverrides, decodeHash, encodeHash } from '../../src/ui/hash';
import { THREADED_START_MS, threadedStartMs, threadsAsked } from '../../src/ui/trainer-client';
import { defaultWasmThreads } from '../../src/core/rules';

describe('URL hash', () => {
  test('the defaults encode to an empty hash', () => {
    expect(encodeHash(defaultConfig())).toBe('');
  });

  test('every changed field round-trips, with strings, arrays and numbers keeping their types', () => {
    const c = mergeConfig(defaultConfig(), {
      train: { lr: 0.01, seed: 7, earlyStopping: { enabled: true }, freeze: { blocks: [0, 2] } },
      lora: { targets: ['q', 'k', 'up'] },
      data: { separator: '\n=> ', dataset: 'sentiment', poisonTrigger: '123', skew: { label: 'a,b', keep: 0.5 } },
      eval: { stop: ['\n', '###'] },
    });
    const hash = encodeHash(c);
    expect(hash).toContain('train.lr=0.01');
    expect(hash).toContain('lora.targets=q,k,up');
    expect(hash).toContain('data.dataset=sentiment');
    const back = applyOverrides(defaultConfig(), decodeHash(`#${hash}`).overrides);
    expect(back.problems).toEqual([]);
    expect(back.config).toEqual(c);
  });

  test('a plain link names its model; a link that names none was written when tiny-world was the default and opens on it', () => {
    expect(defaultConfig().model.name).toBe('small-world');
    const hash = encodeHash(mergeConfig(defaultConfig(), { train: { lr: 0.01 } }));
    expect(hash).toBe('model.name=small-world&train.lr=0.01');
    expect(applyOverrides(defaultConfig(), decodeHash(`#${hash}`).overrides).config.model.name).toBe('small-world');
    // an old link: "#train.lr=0.01" meant tiny-world at lr 0.01
    const old = applyOverrides(defaultConfig(), decodeHash('#train.lr=0.01').overrides).config;
    expect(old.model.name).toBe('tiny-world');
    expect(old.train.lr).toBe(0.01);
    // a lesson's link takes its model from the lesson, which names it
    expect(decodeHash('#lesson=overfitting&train.lr=0.01').overrides).toEqual(['train.lr=0.01']);
  });

  test('lesson, variant and hide travel with the config; unknown fields are reported, not fatal', () => {
    const hash = encodeHash(mergeConfig(defaultConfig(), { train: { maxSteps: 10 } }), {
      lesson: 'overfitting',
      variant: 'early-stopping',
      hide: true,
    });
    const h = decodeHash(`#${hash}&train.nope=1`);
    expect(h).toMatchObject({ lesson: 'overfitting', variant: 'early-stopping', hide: true });
    const { config, problems } = applyOverrides(defaultConfig(), h.overrides);
    expect(config.train.maxSteps).toBe(10);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('train.nope');
  });

  test('a value of the wrong kind, or one that replaces a group of settings, is ignored with a reason; in-range checks are left to configProblems', () => {
    const { config, problems } = applyOverrides(defaultConfig(), [
      'model.arch.nEmbd=wide',
      'model=5',
      'model.arch={"nEmbd":1}',
      'eval.general=yes',
      'lora.rank=8',
      'model.arch.nEmbd=65536',
    ]);
    expect(problems).toEqual([
      'The link\'s setting "model.arch.nEmbd=wide" was ignored: model.arch.nEmbd expects a number, not "wide".',
      'The link\'s setting "model=5" was ignored: model is a group of settings, not one value: set one of them, such as model.name.',
      'The link\'s setting "model.arch={"nEmbd":1}" was ignored: model.arch is a group of settings, not one value: set one of them, such as model.arch.vocabSize.',
      'The link\'s setting "eval.general=yes" was ignored: eval.general expects true or false, not "yes".',
    ]);
    expect(config.lora.rank).toBe(8);
    expect(config.model.arch.nEmbd).toBe(65536); // the right kind: kept, and flagged by configProblems
    expect(configProblems(config).map((p) => p.field)).toContain('model.arch.nEmbd');
  });
});

describe('picked files', () => {
  test('a file over its limit is refused by name and size before it is read; one at the limit passes', () => {
    const file = new File([new Uint8Array(2500)], 'movie.jsonl');
    expect(() => checkFileSize(file, 2000, 'dataset')).toThrow(
      'movie.jsonl is 2.5 kB, more than the 2 kB a dataset may be here: is it the right file?',
    );
    expect(() => checkFileSize(file, 2500, 'dataset')).not.toThrow();
  });
});

describe('config diff labels', () => {
  test('name what changed, in the short names people use', () => {
    const a = defaultConfig();
    const b = mergeConfig(a, { train: { lr: 1e-2, batchSize: 16 }, lora: { targets: ['q', 'k', 'v'] } });
    expect(describeChanges(diffConfig(a, b))).toBe('lr 3e-3→0.01, batch 8→16, targets q+v→q+k+v');
    expect(describeChanges(diffConfig(a, a))).toBe('same config');
    expect(
      describeChanges(diffConfig(a, mergeConfig(a, { train: { seed: 1, epochs: 2, warmupSteps: 5, gradClip: 0 } })), 2),
    ).toBe('epochs 3→2, warmup 0→5, +2 more');
  });
});

describe('worker protocol', () => {
  test('steps survive packing into one Float64Array', () => {
    const steps: StepEvent[] = [1, 2, 3].map((step) => ({
      type: 'step',
      step,
      epoch: step / 10,
      loss: 2 / step,
      lr: 1e-3,
      gradNorm: 0.5,
      tokensPerSec: 1000,
      msPerStep: 12.5,
      numTensors: 40,
      numBytes: 1e6,
    }));
    const packed = packSteps(steps);
    expect(packed).toBeInstanceOf(Float64Array);
    expect(unpackSteps(packed)).toEqual(steps);
  });
});

describe('charts', () => {
  test('EMA with bias correction starts at the first value and ignores gaps', () => {
    expect(ema([4, null, 4, 4], 0.9)).toEqual([4, null, 4, 4]);
    expect(ema([1, 3], 0)).toEqual([1, 3]);
    const s = ema([0, 10], 0.5) as number[];
    expect(s[1]).toBeCloseTo((0.5 * 0 * 0.5 + 0.5 * 10) / (1 - 0.25));
  });

  test('one x axis for all runs; sparse evaluations; markers for warmup, best and early stop', () => {
    const step = (s: number, loss: number): StepEvent => ({
      type: 'step',
      step: s,
      epoch: 0,
      loss,
      lr: 0.1,
      gradNorm: 1,
      tokensPerSec: 1,
      msPerStep: 1,
      numTensors: 1,
      numBytes: 1,
    });
    const run = {
      steps: [step(1, 3), step(2, 2), step(3, 1)],
      evals: [{ type: 'eval' as const, step: 2, valLoss: 2.5, valPerplexity: Math.exp(2.5) }],
      warmupEndStep: 1,
      end: {
        type: 'end' as const,
        reason: 'early_stop' as const,
        message: '',
        step: 3,
        bestStep: 2,
        bestValLoss: 2.5,
        restoredBest: true,
      },
    };
    const older = { ...run, steps: [...run.steps, step(4, 0.5), step(5, 0.4)], end: null, warmupEndStep: 0 };
    const c = buildCharts(run, [{ run: older, label: '#1 lr 0.1→0.2', tag: '#1' }], 0);
    expect(c.x).toEqual([1, 2, 3, 4, 5]);
    const val = c.loss.find((k) => k.label === 'validation')!;
    expect(val.values).toEqual([null, 2.5, null, null, null]);
    expect(c.loss.filter((k) => k.faded).map((k) => k.label)).toEqual(['#1 lr 0.1→0.2', '#1 val']);
    expect(c.markers.map((m) => m.label)).toEqual(['warmup end', 'best 2', 'early stop 3']);
  });
});

describe('?threads=N in the page address (wasm threads)', () => {
  test('1 to 8 is taken; anything else leaves the default', () => {
    expect(threadsAsked('?threads=2')).toBe(2);
    expect(threadsAsked('?x=1&threads=8')).toBe(8);
    for (const bad of ['', '?threads=', '?threads=0', '?threads=9', '?threads=1.5', '?threads=two'])
      expect(threadsAsked(bad), bad).toBeUndefined();
  });

  test('the default is half the logical cores, 1 to 4; the threaded start limit can be shortened by a test', () => {
    expect([1, 2, 3, 4, 6, 8, 16, NaN].map(defaultWasmThreads)).toEqual([1, 1, 1, 2, 3, 4, 4, 1]);
    expect(threadedStartMs('')).toBe(THREADED_START_MS);
    expect(threadedStartMs('?threadStartMs=0')).toBe(0);
    expect(threadedStartMs('?threadStartMs=-5')).toBe(THREADED_START_MS);
  });
});

describe("the model import's fit line (src/ui/model-fit.ts)", () => {
  // SmolLM2-135M's shape: 134.5M parameters, 538 MB as float32; an F16 file of half that
  const arch = {
    vocabSize: 49152,
    blockSize: 2048,
    nLayer: 30,
    nHead: 9,
    nEmbd: 576,
    mlpRatio: 1536 / 576,
    layerNormEps: 1e-5,
    llama: { nKvHead: 3, intermediateSize: 1536, ropeTheta: 100000, qkvBias: false, tiedHead: true },
  };
  const size = { arch, bytesF32: 538e6, fileBytes: 269e6 };
  const lora = (batch: number) =>
    mergeConfig(defaultConfig(), { train: { method: 'lora', batchSize: batch }, model: { arch: { blockSize: 2048 } } });

  test('counts a training step of the run as set up, not only the weights', () => {
    const weightsOnly = modelFit(size, 8, undefined);
    const step = modelFit(size, 8, { config: lora(8), backend: 'webgpu' });
    expect(weightsOnly.needBytes).toBe(269e6 + 2 * 538e6);
    // batch 8 × 512 tokens of activations and logits: far more than the weights' copy
    expect(step.needBytes).toBeGreaterThan(weightsOnly.needBytes + 1e9);
    expect(step.text).toContain('LoRA at batch 8 × 512 tokens'); // the context up to 512 (fitContext)
    expect(modelFit(size, 8, { config: lora(1), backend: 'webgpu' }).needBytes).toBeLessThan(step.needBytes);
  });

  test('on wasm, a step whose heap would pass 4 GiB is too big whatever the device reports, and says so', () => {
    const f = modelFit(size, 16, { config: lora(8), backend: 'wasm' });
    expect(f.fit).toBe('too-big');
    expect(f.text).toMatch(/wasm's heap .* past its 4 GiB end/);
    expect(modelFit(size, 16, { config: lora(1), backend: 'wasm' }).fit).toBe('fits');
  });
});

describe('a link to a Llama-layout run', () => {
  test('carries model.arch.llama and reads it back (a GPT-2 default has no such group)', () => {
    const llama = mergeConfig(defaultConfig(), {
      model: {
        name: 'random',
        arch: {
          nHead: 4,
          nEmbd: 64,
          llama: { nKvHead: 2, intermediateSize: 172, ropeTheta: 10000, qkvBias: false, tiedHead: true },
        },
      },
    });
    const { config, problems } = applyOverrides(defaultConfig(), decodeHash(encodeHash(llama)).overrides);
    expect(problems).toEqual([]);
    expect(config.model.arch.llama).toEqual(llama.model.arch.llama);
    expect(configProblems(config)).toEqual([]);
    // only the Llama options themselves: anything else in the group is still an unknown field
    expect(applyOverrides(defaultConfig(), ['model.arch.llama.foo=1']).problems[0]).toContain(
      'unknown config field "model.arch.llama.foo"',
    );
  });
});
