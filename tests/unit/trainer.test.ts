// The training loop on a tiny model: what trains and what stays bit-identical, overfitting a tiny batch, flat tensor
// counts, seeded repeatability, schedules, early stopping (scripted and live), divergence, stop/pause, gradient
// accumulation, gradual unfreezing and layer-wise learning rates.

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend';
import {
  mergeConfig,
  validate,
  type DeepPartial,
  type EarlyStoppingConfig,
  type ModelArch,
  type RunConfig,
  type TrainConfig,
} from '../../src/core/config';
import type { Example } from '../../src/core/data/types';
import { evalLoss, greedyAnswers } from '../../src/core/eval/evaluate';
import { exactMatch } from '../../src/core/rules';
import { CharTokenizer } from '../../src/core/tokenizer/char';
import { EarlyStopper } from '../../src/core/train/early-stopping';
import { blockOf, frozenBlocks, lrScaleOf, trainableParams } from '../../src/core/train/freeze';
import { Optimizer } from '../../src/core/train/optimizer';
import { lrAt } from '../../src/core/train/schedule';
import { Trainer, stepsFor, type TrainData } from '../../src/core/train/trainer';
import type { EvalEvent, StepEvent } from '../../src/core/train/types';
import { TINY, maxAbsDiff, randomExamples, snapshot, tinyConfig, tinyModel } from '../helpers/tiny';

/** A Trainer over a fresh tiny model (model seed fixed, so two setups start from identical weights). */
function setup(over: DeepPartial<RunConfig>, data: TrainData, modelSeed = 1) {
  const config = validate(tinyConfig(over), data.train.length);
  const { model, lora, view } = tinyModel(config, modelSeed);
  const trainer = new Trainer({
    model: view,
    config,
    data,
    tokenizer: new CharTokenizer(),
    backend: 'cpu',
    totalParams: model.numParams,
  });
  const dispose = () => {
    model.dispose();
    lora?.dispose();
  };
  return { config, model, lora, view, trainer, dispose };
}

/** n examples whose first tokens all differ, so every prefix has one right continuation and loss can reach 0. */
function memorisable(n: number, seed: number): Example[] {
  const seen = new Set<number>();
  return randomExamples(10 * n, TINY, seed)
    .filter((e) => !seen.has(e.ids[0]) && seen.add(e.ids[0]))
    .slice(0, n);
}

const allFinite = async (m: Map<string, Float32Array>) => [...m.values()].every((d) => d.every(Number.isFinite));

beforeAll(async () => {
  await initBackend('cpu');
});

describe('what trains', () => {
  it('LoRA: every base weight stays bit-identical, every adapter matrix changes', async () => {
    const s = setup(
      { train: { method: 'lora', maxSteps: 6, batchSize: 4, lr: 1e-2 }, lora: { targets: ['q', 'v', 'down'] } },
      { train: randomExamples(8, TINY, 1), val: [] },
    );
    const base = await snapshot(s.model.params);
    const adapters = await snapshot(s.lora!.variables());
    const h = await s.trainer.run();
    expect(h.end.reason).toBe('completed');
    expect(h.steps.length).toBe(6);
    expect(h.trainableParams).toBe(s.lora!.countParams());
    const baseAfter = await snapshot(s.model.params);
    for (const [name, w] of base) expect(baseAfter.get(name), name).toEqual(w);
    const adaptersAfter = await snapshot(s.lora!.variables());
    for (const [name, w] of adapters) expect(maxAbsDiff(adaptersAfter.get(name)!, w), name).toBeGreaterThan(0);
    s.dispose();
  });

  it('full fine-tuning with frozen embeddings and lowestBlocks = 1: wte, wpe and block 0 bit-identical, the rest changed', async () => {
    const s = setup(
      { train: { method: 'full', maxSteps: 4, batchSize: 4, lr: 1e-2, freeze: { embeddings: true, lowestBlocks: 1 } } },
      { train: randomExamples(8, TINY, 2), val: [] },
      2,
    );
    const before = await snapshot(s.model.params);
    await s.trainer.run();
    const after = await snapshot(s.model.params);
    const frozen = (n: string) => n.startsWith('wte') || n.startsWith('wpe') || n.startsWith('h.0.');
    expect([...before.keys()].filter(frozen).length).toBe(2 + 12);
    for (const [name, w] of before) {
      if (frozen(name)) expect(after.get(name), `${name} is frozen`).toEqual(w);
      else expect(maxAbsDiff(after.get(name)!, w), `${name} trains`).toBeGreaterThan(0);
    }
    s.dispose();
  });
});

describe('optimisation', () => {
  it('overfits 4 examples to near-zero loss with full fine-tuning in 150 steps', async () => {
    const train = memorisable(4, 3);
    expect(new Set(train.map((e) => e.ids[0])).size).toBe(4);
    const s = setup(
      { train: { method: 'full', maxSteps: 150, batchSize: 4, lr: 2e-2, gradClip: 0, freeze: { embeddings: false } } },
      { train, val: [] },
    );
    const h = await s.trainer.run();
    expect(h.steps[0].loss).toBeGreaterThan(2); // ≈ ln 11 = 2.40 from a near-uniform start
    expect(h.steps.at(-1)!.loss).toBeLessThan(0.05);
    expect(await evalLoss(s.view, train, 4)).toBeLessThan(0.05);
    s.dispose();
  });

  const leakCases: [string, DeepPartial<RunConfig>][] = [
    [
      'full fine-tuning, 2 accumulated micro-batches',
      { train: { method: 'full', batchSize: 2, gradAccumSteps: 2, freeze: { embeddings: false } } },
    ],
    [
      'LoRA with dropout and KL to the base',
      { train: { method: 'lora', batchSize: 4, klToBase: 0.5 }, lora: { dropout: 0.1 } },
    ],
  ];
  it.each(leakCases)(
    'keeps tf.memory().numTensors flat from step 10 to step 200, evaluating every 5 steps (%s)',
    async (_, over) => {
      const s = setup(
        mergeConfig(over, { train: { maxSteps: 200, lr: 1e-3 }, eval: { everySteps: 5, maxBatches: 2 } }),
        {
          train: randomExamples(8, TINY, 4),
          val: randomExamples(4, TINY, 5),
        },
      );
      const h = await s.trainer.run();
      expect(h.steps.length).toBe(200);
      expect(h.evals.length).toBe(40);
      expect(h.steps[199].numTensors).toBe(h.steps[9].numTensors);
      expect(h.steps[99].numTensors).toBe(h.steps[9].numTensors);
      s.dispose();
    },
  );

  it('the same seed gives the identical loss sequence; another seed a different one', async () => {
    const data = { train: randomExamples(12, TINY, 6), val: [] };
    const losses = async (seed: number) => {
      const s = setup(
        { train: { method: 'lora', maxSteps: 8, batchSize: 3, lr: 1e-2, seed }, lora: { dropout: 0.2 } },
        data,
      );
      const h = await s.trainer.run();
      s.dispose();
      return h.steps.map((e) => e.loss);
    };
    const a = await losses(5);
    expect(await losses(5)).toEqual(a);
    const other = await losses(6);
    expect(other).not.toEqual(a);
    expect(maxAbsDiff(other, a)).toBeGreaterThan(1e-3);
  });

  it('gradient accumulation: batch 2 × 2 micro-batches gives the same first step as batch 4 × 1 on the same 4 examples', async () => {
    // With 4 examples both samplers draw the same shuffled permutation (same seed), so the first step sees all four,
    // and with equal token counts the mean of the two micro-batch means equals the mean over four.
    const data = { train: randomExamples(4, TINY, 7), val: [] };
    const first = async (batchSize: number, gradAccumSteps: number) => {
      const s = setup(
        { train: { method: 'full', maxSteps: 1, batchSize, gradAccumSteps, freeze: { embeddings: false } } },
        data,
      );
      const h = await s.trainer.run();
      s.dispose();
      return h.steps[0];
    };
    const whole = await first(4, 1);
    const accum = await first(2, 2);
    const half = await first(2, 1); // only half the examples: a different gradient, so the check has teeth
    expect(whole.gradNorm).toBeGreaterThan(0.1);
    expect(Math.abs(accum.gradNorm - whole.gradNorm)).toBeLessThan(1e-5 * whole.gradNorm);
    expect(Math.abs(accum.loss - whole.loss)).toBeLessThan(1e-5);
    expect(Math.abs(half.gradNorm - whole.gradNorm)).toBeGreaterThan(1e-3 * whole.gradNorm);
  });

  it('gradient accumulation weights micro-batches by their target tokens: batch 1 × 8 equals batch 8 on examples of unequal length', async () => {
    // Lengths 2..9 tokens and loss masks that skip a prompt: a plain mean of 8 per-example means would weight a
    // 1-target example like an 8-target one, and both the loss and the update would differ from batch 8.
    const data = {
      train: randomExamples(8, TINY, 9).map((e, i) => ({
        ...e,
        ids: e.ids.slice(0, i + 3),
        lossMask: e.ids.slice(0, i + 3).map((_, t) => (t < 2 ? 0 : 1)),
      })),
      val: [],
    };
    const after = async (batchSize: number, gradAccumSteps: number) => {
      const s = setup(
        {
          train: {
            method: 'full',
            optimizer: 'sgd',
            momentum: 0,
            weightDecay: 0,
            gradClip: 0,
            lr: 0.5,
            maxSteps: 1,
            batchSize,
            gradAccumSteps,
            freeze: { embeddings: false },
          },
        },
        data,
      );
      const h = await s.trainer.run();
      const w = await snapshot(s.model.params);
      s.dispose();
      return { step: h.steps[0], w };
    };
    const whole = await after(8, 1);
    const accum = await after(1, 8);
    expect(Math.abs(accum.step.loss - whole.step.loss)).toBeLessThan(1e-5);
    expect(Math.abs(accum.step.gradNorm - whole.step.gradNorm)).toBeLessThan(1e-5 * whole.step.gradNorm);
    for (const [name, w] of whole.w) expect(maxAbsDiff(accum.w.get(name)!, w), name).toBeLessThan(1e-6);
  });
});

describe('AdamW', () => {
  it('bias correction counts each parameter’s own updates: a variable that joins late takes a first step of size lr', async () => {
    // Adam's first step is m̂/√v̂ = g/|g| whatever the gradient's size; a variable opened after 5 steps (gradual
    // unfreezing) must get that same first step, not one corrected as if it were its 6th
    const c = tinyConfig({ train: { optimizer: 'adamw', epsilon: 1e-12, weightDecay: 0 } }).train;
    const early = tf.variable(tf.zeros([3]));
    const late = tf.variable(tf.zeros([3]));
    const opt = new Optimizer(c);
    const g = tf.tensor1d([0.5, -2, 3e-3]);
    const lr = 0.01;
    for (let i = 0; i < 5; i++) opt.apply([{ variable: early, lrScale: 1, decay: false }], [g], lr);
    opt.apply(
      [
        { variable: early, lrScale: 1, decay: false },
        { variable: late, lrScale: 1, decay: false },
      ],
      [g, g],
      lr,
    );
    expect(maxAbsDiff(await late.data(), [-lr, lr, -lr])).toBeLessThan(1e-7);
    // the early variable is on its 6th update with a constant gradient: each step has been lr too
    expect(maxAbsDiff(await early.data(), [-6 * lr, 6 * lr, -6 * lr])).toBeLessThan(1e-6);
    opt.dispose();
    tf.dispose([early, late, g]);
  });
});

describe('the trainer’s bookkeeping', () => {
  it('valAccuracy counts an answer right by the one exact-match rule (case, surrounding space, final full stop ignored)', async () => {
    const data = { train: randomExamples(8, TINY, 31), val: randomExamples(4, TINY, 32) };
    const prompts = randomExamples(6, TINY, 33, 3).map((e) => e.ids);
    const over: DeepPartial<RunConfig> = {
      train: { method: 'lora', maxSteps: 2, batchSize: 4, lr: 1e-2 },
      eval: { everySteps: 2, accuracy: true, maxNewTokens: 4, stop: [] },
    };
    // the same seeded setup twice: the first run says what the model answers after 2 steps
    const first = setup(over, data);
    await first.trainer.run();
    const answers = await greedyAnswers(first.view, new CharTokenizer(), prompts, 4, []);
    first.dispose();
    // expected answers written with a final full stop and spaces around: the same answer, by the rule
    const valQuestions = prompts.map((prompt, i) => ({ prompt, answer: ` ${answers[i].text}. ` }));
    const second = setup(over, { ...data, valQuestions });
    const h = await second.trainer.run();
    second.dispose();
    expect(h.evals.at(-1)!.valAccuracy).toBe(1);
    expect(exactMatch('Dog.', ' dog')).toBe(true);
    expect(exactMatch('dog', 'cat')).toBe(false);
  });

  it('without early stopping no best-weights copy is held: restoreBest changes nothing, not even the tensor count', async () => {
    const data = { train: randomExamples(8, TINY, 41), val: randomExamples(4, TINY, 42) };
    // tensors held at each step beyond those held at step 1, before the first evaluation (tensors other runs in
    // this process left behind cancel out)
    const held = async (earlyStopping: Partial<EarlyStoppingConfig>) => {
      const s = setup(
        {
          train: {
            method: 'full',
            maxSteps: 6,
            batchSize: 4,
            lr: 1e-2,
            freeze: { embeddings: false },
            earlyStopping: { patience: 100, ...earlyStopping },
          },
          eval: { everySteps: 2 },
        },
        data,
      );
      const h = await s.trainer.run();
      const weights = Object.keys(s.model.params).length;
      s.dispose();
      return { extra: h.steps.map((e) => e.numTensors - h.steps[0].numTensors), weights };
    };
    const without = await held({ enabled: false, restoreBest: false });
    expect(without.extra).toEqual([0, 0, 0, 0, 0, 0]);
    expect((await held({ enabled: false, restoreBest: true })).extra).toEqual(without.extra);
    // with early stopping on, the copy is there after the first evaluation (step 2; one tensor per weight), so the count can tell
    const withCopy = await held({ enabled: true, restoreBest: true });
    expect(withCopy.extra).toEqual([0, 0, 1, 1, 1, 1].map((x) => x * withCopy.weights));
  });
});

describe('peak memory', () => {
  it('eval.peakMemory records the high-water mark of the first step: above what is held after it, and growing with the batch', async () => {
    const data = { train: randomExamples(16, TINY, 51), val: [] };
    const run = async (batchSize: number, peakMemory: boolean) => {
      const s = setup(
        {
          train: { method: 'full', maxSteps: 2, batchSize, lr: 1e-3, freeze: { embeddings: false } },
          eval: { peakMemory },
        },
        data,
      );
      const h = await s.trainer.run();
      s.dispose();
      return h;
    };
    const small = await run(2, true);
    const large = await run(16, true);
    // activations and gradients are freed by the end of a step, so tf.memory() afterwards cannot see them
    expect(small.peakBytes!).toBeGreaterThan(small.steps[0].numBytes);
    // what a step needs on top of what it keeps grows with the batch (tensors other runs left behind cancel out)
    expect(large.peakBytes! - large.steps[0].numBytes).toBeGreaterThan(
      1.5 * (small.peakBytes! - small.steps[0].numBytes),
    );
    expect((await run(2, false)).peakBytes).toBeUndefined();
  });
});

describe('learning-rate schedule', () => {
  const c = (
    schedule: TrainConfig['schedule'],
    warmupSteps = 10,
  ): Pick<TrainConfig, 'lr' | 'schedule' | 'warmupSteps' | 'minLrRatio'> => ({
    lr: 2,
    schedule,
    warmupSteps,
    minLrRatio: 0.1,
  });
  const total = 110; // 10 warmup + 100 decay steps

  it('warms up linearly: lr/warmup at step 1, lr at the end of warmup', () => {
    for (const s of ['constant', 'linear', 'cosine'] as const) {
      expect(lrAt(1, total, c(s))).toBeCloseTo(0.2, 12);
      expect(lrAt(5, total, c(s))).toBeCloseTo(1, 12);
      expect(lrAt(10, total, c(s))).toBeCloseTo(2, 12);
    }
  });

  it('constant stays at lr; linear and cosine end at minLr on the last step and meet at the midpoint', () => {
    expect(lrAt(11, total, c('constant'))).toBe(2);
    expect(lrAt(total, total, c('constant'))).toBe(2);
    for (const s of ['linear', 'cosine'] as const) {
      expect(lrAt(total, total, c(s))).toBeCloseTo(0.2, 12);
      expect(lrAt(60, total, c(s))).toBeCloseTo(1.1, 12); // halfway: (lr + minLr) / 2
      expect(lrAt(total + 5, total, c(s))).toBeCloseTo(0.2, 12); // never below the floor
    }
    expect(lrAt(11, total, c('linear'))).toBeCloseTo(2 - 1.8 * 0.01, 12);
    expect(lrAt(35, total, c('linear'))).toBeCloseTo(2 - 1.8 * 0.25, 12);
    expect(lrAt(35, total, c('cosine'))).toBeCloseTo(0.2 + 0.9 * (1 + Math.SQRT1_2), 12); // cos(π/4)
    expect(lrAt(85, total, c('cosine'))).toBeCloseTo(0.2 + 0.9 * (1 - Math.SQRT1_2), 12);
  });

  it('without warmup, decay starts at step 1 and reaches minLr at the last step', () => {
    expect(lrAt(1, 100, c('cosine', 0))).toBeCloseTo(0.2 + 0.9 * (1 + Math.cos(Math.PI / 100)), 12);
    expect(lrAt(1, 100, c('linear', 0))).toBeCloseTo(2 - 1.8 / 100, 12);
    expect(lrAt(50, 100, c('cosine', 0))).toBeCloseTo(1.1, 12);
    expect(lrAt(100, 100, c('linear', 0))).toBeCloseTo(0.2, 12);
  });

  it('the trainer uses lrAt(step) for each optimizer step', async () => {
    const s = setup(
      { train: { method: 'lora', maxSteps: 12, warmupSteps: 4, schedule: 'cosine', lr: 1e-2, batchSize: 2 } },
      { train: randomExamples(4, TINY, 8), val: [] },
    );
    const h = await s.trainer.run();
    expect(h.steps.map((e) => e.lr)).toEqual(Array.from({ length: 12 }, (_, i) => lrAt(i + 1, 12, s.config.train)));
    expect(h.steps[3].lr).toBeCloseTo(1e-2, 12);
    expect(h.steps[11].lr).toBeCloseTo(1e-3, 12);
    expect(h.warmupEndStep).toBe(4);
    s.dispose();
  });

  it('stepsFor: epochs × ceil(train / (batch × accum)), or maxSteps when set', () => {
    const cfg = tinyConfig({ train: { batchSize: 4, gradAccumSteps: 2, epochs: 2.5, maxSteps: 0 } });
    expect(stepsFor(cfg, 20)).toEqual({ stepsPerEpoch: 3, totalSteps: 8 });
    expect(stepsFor(tinyConfig({ train: { maxSteps: 7 } }), 20).totalSteps).toBe(7);
  });
});

describe('early stopping', () => {
  const es = (over: Partial<EarlyStoppingConfig> = {}): EarlyStoppingConfig => ({
    enabled: true,
    metric: 'valLoss',
    patience: 3,
    minDelta: 0,
    restoreBest: true,
    ...over,
  });
  /** Feeds a scripted curve (one evaluation every 10 steps); returns the step it stops at (or null) and the best step. */
  function script(c: EarlyStoppingConfig, curve: number[]) {
    const s = new EarlyStopper(c);
    for (let i = 0; i < curve.length; i++) {
      const { stop } = s.observe(10 * (i + 1), curve[i]);
      if (stop) return { stopAt: 10 * (i + 1), bestStep: s.bestStep, bestValue: s.bestValue };
    }
    return { stopAt: null, bestStep: s.bestStep, bestValue: s.bestValue };
  }

  it('stops after exactly `patience` evaluations without improvement (loss: lower is better)', () => {
    expect(script(es(), [3, 2, 2.5, 2.4, 2.1, 1])).toEqual({ stopAt: 50, bestStep: 20, bestValue: 2 });
    expect(script(es({ patience: 1 }), [3, 2, 2.5, 1])).toEqual({ stopAt: 30, bestStep: 20, bestValue: 2 });
    expect(script(es(), [3, 2, 2.5, 1.5, 1.6, 1.7, 1.4, 1.3])).toEqual({ stopAt: null, bestStep: 80, bestValue: 1.3 });
    expect(script(es(), [2, 2, 2, 2])).toEqual({ stopAt: 40, bestStep: 10, bestValue: 2 }); // equal is not better
  });

  it('minDelta: an improvement must exceed it strictly', () => {
    // 2 → 1.5 is exactly 0.5: not an improvement; 2 → 1.25 is
    expect(script(es({ patience: 2, minDelta: 0.5 }), [2, 1.5, 1.25, 1, 1])).toEqual({
      stopAt: 50,
      bestStep: 30,
      bestValue: 1.25,
    });
  });

  it('accuracy is higher-is-better', () => {
    expect(script(es({ metric: 'valAccuracy', patience: 2 }), [0.1, 0.3, 0.2, 0.3, 0.5])).toEqual({
      stopAt: 40,
      bestStep: 20,
      bestValue: 0.3,
    });
    expect(script(es({ metric: 'valAccuracy', patience: 2 }), [0.1, 0.2, 0.3, 0.4])).toEqual({
      stopAt: null,
      bestStep: 40,
      bestValue: 0.4,
    });
  });

  it('disabled: tracks the best but never stops', () => {
    expect(script(es({ enabled: false, patience: 1 }), [1, 2, 3, 4])).toEqual({
      stopAt: null,
      bestStep: 10,
      bestValue: 1,
    });
  });

  it('a NaN evaluation (no metric computed yet) never becomes the best', () => {
    // e.g. the first evaluation ran before any val accuracy existed, or a loss was not finite
    expect(script(es({ patience: 2 }), [NaN, 2, 1.5, 1])).toEqual({ stopAt: null, bestStep: 40, bestValue: 1 });
  });

  it('with no validation metric at all (empty val split), early stopping neither stops the run nor rolls it back', async () => {
    // data.split.val = 0 is a valid config; every evaluation's valLoss is then NaN
    const s = setup(
      {
        train: { method: 'lora', maxSteps: 30, batchSize: 4, lr: 1e-2, earlyStopping: { enabled: true, patience: 2 } },
        eval: { everySteps: 5 },
      },
      { train: randomExamples(8, TINY, 14), val: [] },
    );
    const h = await s.trainer.run();
    expect([h.end.reason, h.end.step, h.end.restoredBest], h.end.message).toEqual(['completed', 30, false]);
    expect(h.evals.map((e) => e.valLoss)).toEqual(new Array(6).fill(NaN));
    s.dispose();
  });

  it('a trainer whose val loss rises stops at bestStep + patience·everySteps and restores the best weights', async () => {
    const patience = 2;
    const everySteps = 5;
    const val = randomExamples(8, TINY, 10);
    const s = setup(
      {
        train: {
          method: 'full',
          maxSteps: 300,
          batchSize: 4,
          lr: 2e-2,
          gradClip: 0,
          freeze: { embeddings: false },
          earlyStopping: { enabled: true, patience, restoreBest: true },
        },
        eval: { everySteps, maxBatches: 0 },
      },
      { train: randomExamples(4, TINY, 9), val },
    );
    const atEval = new Map<number, tf.Tensor[]>(); // weights as they were at each evaluation
    const vars = Object.values(s.model.params);
    const h = await s.trainer.run({
      onEval: (e: EvalEvent) =>
        atEval.set(
          e.step,
          vars.map((v) => tf.keep(v.clone())),
        ),
    });
    const { end, evals } = h;
    expect(end.reason).toBe('early_stop');
    expect(end.step).toBe(end.bestStep + patience * everySteps);
    expect(end.step).toBeLessThan(300);
    expect(end.restoredBest).toBe(true);
    const best = evals.find((e) => e.step === end.bestStep)!;
    expect(end.bestValLoss).toBe(best.valLoss);
    expect(Math.min(...evals.map((e) => e.valLoss))).toBe(best.valLoss);
    expect(evals.at(-1)!.valLoss).toBeGreaterThan(best.valLoss); // it really did get worse
    // the model now is the model of the best evaluation
    expect(Math.abs((await evalLoss(s.view, val, 4, 0)) - best.valLoss)).toBeLessThan(1e-5);
    const snap = atEval.get(end.bestStep)!;
    for (let i = 0; i < vars.length; i++)
      expect(maxAbsDiff(await vars[i].data(), await snap[i].data()), vars[i].name).toBe(0);
    for (const ts of atEval.values()) tf.dispose(ts);
    s.dispose();
  });
});

describe('ending a run', () => {
  it('diverges on a huge learning rate without clipping, keeping finite weights from the step the message names', async () => {
    const s = setup(
      { train: { method: 'full', maxSteps: 50, batchSize: 4, lr: 5, gradClip: 0, freeze: { embeddings: false } } },
      { train: randomExamples(8, TINY, 11), val: [] },
    );
    const vars = Object.values(s.model.params);
    const atStep = new Map<number, tf.Tensor[]>([[0, vars.map((v) => tf.keep(v.clone()))]]); // weights after each step
    const h = await s.trainer.run({
      onStep: (e: StepEvent) =>
        atStep.set(
          e.step,
          vars.map((v) => tf.keep(v.clone())),
        ),
    });
    expect(h.end.reason).toBe('diverged');
    expect(h.end.step).toBeLessThan(50);
    expect(await allFinite(await snapshot(s.model.params))).toBe(true);
    const kept = Number(/Kept the weights from step (\d+)/.exec(h.end.message)?.[1]);
    expect(atStep.has(kept), h.end.message).toBe(true);
    const want = atStep.get(kept)!;
    for (let i = 0; i < vars.length; i++)
      expect(maxAbsDiff(await vars[i].data(), await want[i].data()), `${vars[i].name} vs step ${kept}`).toBe(0);
    for (const ts of atStep.values()) tf.dispose(ts);
    s.dispose();
  });

  it('stop() from onStep at step 3 ends with reason "stopped" at step 3', async () => {
    const s = setup(
      { train: { method: 'lora', maxSteps: 20, batchSize: 2 } },
      { train: randomExamples(4, TINY, 12), val: [] },
    );
    const h = await s.trainer.run({ onStep: (e) => e.step === 3 && s.trainer.stop() });
    expect(h.end.reason).toBe('stopped');
    expect(h.end.step).toBe(3);
    expect(h.steps.map((e) => e.step)).toEqual([1, 2, 3]);
    s.dispose();
  });

  it('pause() holds the loop between steps; resume() continues to the end', async () => {
    const s = setup(
      { train: { method: 'lora', maxSteps: 6, batchSize: 2 } },
      { train: randomExamples(4, TINY, 13), val: [] },
    );
    let seen = 0;
    const running = s.trainer.run({
      onStep: (e) => {
        seen = e.step;
        if (e.step === 2) s.trainer.pause();
      },
    });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    for (let waited = 0; seen < 2 && waited < 10_000; waited += 10) await sleep(10);
    expect(s.trainer.paused).toBe(true);
    expect(seen).toBe(2);
    await sleep(200);
    expect(seen).toBe(2); // still no step while paused
    s.trainer.resume();
    const h = await running;
    expect(s.trainer.paused).toBe(false);
    expect(h.end.reason).toBe('completed');
    expect(h.steps.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6]);
    s.dispose();
  });
});

describe('callbacks and still weights', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('onStart tells the steps and trainable weights first; the trainer waits for each callback it is given', async () => {
    const s = setup(
      { train: { method: 'lora', maxSteps: 4, batchSize: 2 } },
      { train: randomExamples(4, TINY, 14), val: [] },
    );
    const heard: string[] = [];
    const h = await s.trainer.run({
      onStart: (e) => void heard.push(`start ${e.totalSteps} ${e.trainableParams}`),
      onStep: async (e) => {
        heard.push(`step ${e.step}`);
        await sleep(30);
        heard.push(`after ${e.step}`); // nothing else happens while a callback's promise is pending
      },
    });
    const lora = s.lora!.variables().reduce((n, v) => n + v.size, 0);
    expect(heard).toEqual([
      `start 4 ${lora}`,
      'step 1',
      'after 1',
      'step 2',
      'after 2',
      'step 3',
      'after 3',
      'step 4',
      'after 4',
    ]);
    expect(h.trainableParams).toBe(lora);
    s.dispose();
  });

  it('between() runs work between two steps of a running, paused or finished run, never during an update', async () => {
    const s = setup(
      { train: { method: 'lora', maxSteps: 30, batchSize: 2, lr: 1e-2 } },
      { train: randomExamples(4, TINY, 15), val: [] },
    );
    const vars = s.lora!.variables();
    let steps = 0;
    /** Reads the weights, waits (as a sample's decoding does), and reads them again. */
    const still = () =>
      s.trainer.between(async () => {
        const before = await snapshot(vars);
        const at = steps;
        await sleep(40);
        expect(await snapshot(vars)).toEqual(before);
        expect(steps).toBe(at);
        return at;
      });
    const running = s.trainer.run({ onStep: (e) => void (steps = e.step) });
    for (let i = 0; i < 5; i++) {
      await sleep(15);
      await still();
    }
    s.trainer.pause();
    const pausedAt = await still(); // served where the paused loop waits
    expect(await still()).toBe(pausedAt);
    s.trainer.resume();
    const h = await running;
    expect(h.end.reason).toBe('completed');
    expect(await still()).toBe(30); // no run under way: at once
    s.dispose();
  });
});

describe('freezing schedules', () => {
  const arch4: ModelArch = { ...TINY, nLayer: 4 };
  const tc = (over: DeepPartial<TrainConfig>) =>
    tinyConfig({ model: { arch: arch4 }, train: { method: 'full', ...over } }).train;

  it('gradual unfreezing opens one block from the top every N epochs', () => {
    const c = tc({ freeze: { embeddings: false, gradualUnfreezeEvery: 2 } });
    const frozen = (epoch: number) => [...frozenBlocks(arch4, c, epoch)].sort();
    expect(frozen(0)).toEqual([0, 1, 2]); // only the top block (3) trains at first
    expect(frozen(1.99)).toEqual([0, 1, 2]);
    expect(frozen(2)).toEqual([0, 1]);
    expect(frozen(4.5)).toEqual([0]);
    expect(frozen(6)).toEqual([]);
    expect(frozen(100)).toEqual([]);
    // lowestBlocks and chosen blocks stay frozen regardless; LoRA ignores gradual unfreezing
    expect(
      [...frozenBlocks(arch4, tc({ freeze: { lowestBlocks: 1, blocks: [2], gradualUnfreezeEvery: 1 } }), 10)].sort(),
    ).toEqual([0, 2]);
    expect([...frozenBlocks(arch4, tc({ method: 'lora', freeze: { gradualUnfreezeEvery: 1 } }), 0)]).toEqual([]);
  });

  it('the embeddings open last, once every block is open', () => {
    const c = tc({ freeze: { embeddings: false, gradualUnfreezeEvery: 1 } });
    const { model, lora } = tinyModel(tinyConfig({ model: { arch: arch4 } }), 1, false);
    const trainingAt = (epoch: number) =>
      new Set(
        trainableParams(model.params, lora, arch4, c, epoch).map((p) =>
          blockOf(p.variable.name.replace(/^gpt\d+\//, ''), 4),
        ),
      );
    expect(trainingAt(0)).toEqual(new Set([3, 4])); // top block + final LayerNorm
    expect(trainingAt(2)).toEqual(new Set([1, 2, 3, 4]));
    expect(trainingAt(3)).toEqual(new Set([-1, 0, 1, 2, 3, 4]));
    expect(model.params['wte.weight'].trainable).toBe(true);
    trainingAt(0);
    expect(model.params['wte.weight'].trainable).toBe(false); // the flag tf.variableGrads reads follows the schedule
    model.dispose();
  });

  it('layer-wise lr decay: top block × 1, each lower block × decay, embeddings × decay^nLayer', () => {
    expect([-1, 0, 1, 2, 3, 4].map((b) => lrScaleOf(b, arch4, 0.5))).toEqual([0.0625, 0.125, 0.25, 0.5, 1, 1]);
    expect([-1, 0, 3].map((b) => lrScaleOf(b, arch4, 1))).toEqual([1, 1, 1]);
    const { model, lora } = tinyModel(tinyConfig({ model: { arch: arch4 } }), 1, true);
    const full = trainableParams(
      model.params,
      lora,
      arch4,
      tc({ freeze: { embeddings: false, layerLrDecay: 0.5 } }),
      0,
    );
    const scale = new Map(full.map((p) => [p.variable.name.replace(/^gpt\d+\//, ''), p]));
    expect(scale.get('wte.weight')!.lrScale).toBe(0.0625);
    expect(scale.get('h.0.mlp.c_fc.weight')!.lrScale).toBe(0.125);
    expect(scale.get('h.3.attn.c_attn.weight')!.lrScale).toBe(1);
    expect(scale.get('ln_f.weight')!.lrScale).toBe(1);
    // weight decay only on block matrices, not on biases, LayerNorm or embeddings
    expect([...scale.values()].filter((p) => p.decay).map((p) => p.variable.rank)).toEqual(new Array(16).fill(2));
    expect(scale.get('wte.weight')!.decay).toBe(false);
    // LoRA adapters take their block's multiplier
    const adapters = trainableParams(
      model.params,
      lora,
      arch4,
      tc({ method: 'lora', freeze: { layerLrDecay: 0.5 } }),
      0,
    );
    expect(adapters.length).toBe(lora!.variables().length);
    expect(adapters.map((p) => p.lrScale)).toEqual(
      lora!.adapters.flatMap((ad) => [lrScaleOf(ad.layer, arch4, 0.5), lrScaleOf(ad.layer, arch4, 0.5)]),
    );
    expect(new Set(adapters.map((p) => p.lrScale))).toEqual(new Set([0.125, 0.25, 0.5, 1]));
    model.dispose();
    lora!.dispose();
  });
});
