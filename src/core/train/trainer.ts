// The training loop. It knows nothing of who listens (minGPT's trainer.py): callbacks get plain numbers,
// and the same code runs in a test, the CLI and the Worker. One optimizer step =
//   1) gradAccumSteps micro-batches: loss (+ KL to the base model) and gradients, summed
//   2) one read-back of loss and gradient norm → divergence check (NaN/Inf/explosion → roll back, stop)
//   3) clip by global norm, 4) AdamW/SGD update at the scheduled rate, 5) evaluate / early-stop every N steps.

import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../config';
import type { Example } from '../data/types';
import { evalLoss, greedyAnswers, type ModelView } from '../eval/evaluate';
import { logits, maskedCrossEntropy, type Params } from '../model/gpt';
import type { Tokenizer } from '../tokenizer/types';
import { Rng } from '../rng';
import { exactMatch } from '../rules';
import { BatchSampler, disposeBatch, makeBatch, type Batch } from './batch';
import { EarlyStopper } from './early-stopping';
import { Ewc } from './ewc';
import { trainableParams } from './freeze';
import { Optimizer, type OptimizerParam } from './optimizer';
import { bytesOf, StepMemory, type MemoryParts } from './memory';
import { lrAt } from './schedule';
import { lossAndGradNorm } from './stats';
import type { EndEvent, EndReason, EvalEvent, RunHistory, StepEvent, TrainCallbacks } from './types';

export interface TrainData {
  train: Example[];
  val: Example[];
  general?: Example[]; // held-out general text: its loss rising reveals forgetting
  replay?: Example[]; // general training text mixed into batches (data.generalMix), never the held-out text
  /** Validation prompts with their expected answers, for exact-match accuracy (eval.accuracy). */
  valQuestions?: { prompt: number[]; answer: string }[];
}

export interface TrainerInit {
  model: ModelView; // params (tf.Variables for the base), arch, lora set (or null), embedding mode
  config: RunConfig;
  data: TrainData;
  tokenizer: Tokenizer;
  backend: string;
  totalParams: number;
}

/** Copies of a set of variables, to roll back to. */
class Snapshot {
  private copies: tf.Tensor[] = [];
  constructor(private readonly vars: tf.Variable[]) {}
  take() {
    tf.dispose(this.copies);
    this.copies = this.vars.map((v) => tf.keep(v.clone()));
  }
  get empty() {
    return this.copies.length === 0;
  }
  restore() {
    this.vars.forEach((v, i) => v.assign(this.copies[i]));
  }
  dispose() {
    tf.dispose(this.copies);
    this.copies = [];
  }
}

export function stepsFor(c: RunConfig, trainSize: number): { stepsPerEpoch: number; totalSteps: number } {
  const perStep = c.train.batchSize * c.train.gradAccumSteps;
  const stepsPerEpoch = Math.max(1, Math.ceil(trainSize / perStep));
  const totalSteps = c.train.maxSteps > 0 ? c.train.maxSteps : Math.max(1, Math.ceil(c.train.epochs * stepsPerEpoch));
  return { stepsPerEpoch, totalSteps };
}

/** Batches of general text the EWC estimate averages over. */
const EWC_BATCHES = 8;

/** Up to `n` consecutive slices of `size` (the last full one at most). */
function chunk<T>(xs: T[], size: number, n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i + size <= xs.length && out.length < n; i += size) out.push(xs.slice(i, i + size));
  return out;
}

export class Trainer {
  private stopRequested = false;
  private pauseGate: { promise: Promise<void>; release: () => void } | null = null;
  private running = false;
  /** Work waiting for the weights to hold still (between), and how to wake a paused loop to serve it. */
  private waiting: (() => Promise<void>)[] = [];
  private wake: (() => void) | null = null;

  constructor(private readonly r: TrainerInit) {}

  /** Takes effect between steps. */
  stop() {
    this.stopRequested = true;
    this.resume();
  }
  pause() {
    if (this.pauseGate) return;
    let release!: () => void;
    const promise = new Promise<void>((res) => (release = res));
    this.pauseGate = { promise, release };
  }
  resume() {
    this.pauseGate?.release();
    this.pauseGate = null;
  }
  get paused(): boolean {
    return this.pauseGate !== null;
  }

  /**
   * Runs fn while the weights hold still: at once when no run is under way, else between two steps (a paused run
   * serves it where it waits). A sample taken mid-run thus reads the weights of one step.
   */
  between<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.running) return fn();
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => fn().then(resolve, reject));
      this.wake?.();
    });
  }

  private async serveWaiting() {
    while (this.waiting.length > 0) await this.waiting.shift()!();
  }

  async run(cb: TrainCallbacks = {}): Promise<RunHistory> {
    this.running = true;
    try {
      return await this.loop(cb);
    } finally {
      this.running = false;
      await this.serveWaiting();
    }
  }

  /**
   * The run, step by step (minGPT's run()): each named piece below is one stage of an optimizer step, and the loop
   * says only in which order they come and when the run ends.
   */
  private async loop(cb: TrainCallbacks): Promise<RunHistory> {
    const run = await this.begin(cb);
    while (run.step < run.totalSteps) {
      if (await this.waitTurn()) {
        run.end = { reason: 'stopped', message: `Stopped by the user after step ${run.step}.` };
        break;
      }
      this.openParams(run); // the trainable set can change between steps (gradual unfreezing)
      const t0 = performance.now();
      // eval.peakMemory watches the second step (the first where the optimizer state exists), or the only one
      const watch = run.c.eval.peakMemory && run.step === Math.min(1, run.totalSteps - 1) ? new StepMemory() : null;
      watch?.start();
      const g = await this.gradients(run, watch); // 1) micro-batches: loss and mean gradients
      const { loss, gradNorm } = await this.readBack(g); // 2) one read-back: loss and global gradient norm
      const bad = this.badStep(run, g, loss, gradNorm); // a broken backend, NaN or an exploding loss
      if (bad) {
        run.end = bad;
        break;
      }
      const lr = await this.update(run, g, gradNorm, watch); // 3) clip, 4) update
      run.step++;
      await this.emitStep(run, cb, { loss, gradNorm, lr, tokens: g.tokens, ms: performance.now() - t0 });
      const stop = await this.evaluate(run, cb); // 5) evaluate, early stopping
      if (stop) {
        run.end = stop;
        break;
      }
    }
    return this.finish(run);
  }

  /** Everything a run holds from its first step to its end. */
  private async begin(cb: TrainCallbacks): Promise<RunState> {
    const { model: m, config: c, data } = this.r;
    const t = c.train;
    const rng = new Rng(t.seed);
    const sampler = new BatchSampler(data.train, t.batchSize, rng.seed(), data.replay ?? [], c.data.generalMix);
    const { totalSteps } = stepsFor(c, data.train.length);
    // Everything that may ever train, for rollback (divergence) and best-weights (early stopping) snapshots.
    const candidates = m.lora && t.method === 'lora' ? m.lora.variables() : (Object.values(m.params) as tf.Variable[]);
    // KL to the base model needs the base's predictions: for LoRA the base is the same weights without adapters;
    // for full fine-tuning, a frozen copy taken now.
    const baseParams: Params | null =
      t.klToBase > 0
        ? t.method === 'lora'
          ? m.params
          : Object.fromEntries(Object.entries(m.params).map(([k, v]) => [k, tf.keep(v.clone())]))
        : null;
    const startParams = trainableParams(m.params as Record<string, tf.Variable>, m.lora, m.arch, t, 0);
    // EWC: which of the weights trainable now matter to general text, measured before the first update
    const ewc =
      t.ewc > 0
        ? await Ewc.estimate(
            startParams.map((p) => p.variable),
            chunk(data.replay ?? [], t.batchSize, EWC_BATCHES).map((xs) => makeBatch(xs, m.arch.blockSize)),
            (b) =>
              maskedCrossEntropy(logits(m.params, m.arch, b.x, { lora: m.lora, embedMode: m.embedMode }), b.y, b.w),
            t.ewc,
          )
        : null;
    await cb.onStart?.({ totalSteps, trainableParams: startParams.reduce((n, p) => n + p.variable.size, 0) });
    return {
      c,
      rng,
      sampler,
      totalSteps,
      optimizer: new Optimizer(t),
      stopper: new EarlyStopper(t.earlyStopping),
      lastGood: new Snapshot(candidates),
      best: new Snapshot(candidates),
      baseParams,
      ewc,
      steps: [],
      evals: [],
      firstLoss: NaN,
      step: 0,
      end: null,
      params: [],
      vars: [],
      memory: undefined,
    };
  }

  /**
   * Between steps: serves work waiting for still weights, waits while paused, and says whether to stop. A macrotask
   * break each step: `await t.data()` resolves as a microtask on wasm/cpu, so without it a Worker would not see
   * Stop/Pause messages (or flush progress) until the run ended.
   */
  private async waitTurn(): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, 0));
    await this.serveWaiting();
    while (this.pauseGate) {
      if (this.waiting.length === 0)
        await Promise.race([this.pauseGate.promise, new Promise<void>((wake) => (this.wake = wake))]);
      this.wake = null;
      await this.serveWaiting();
    }
    return this.stopRequested;
  }

  /** The optimizer's parameters at this epoch (freeze.ts sets which variables train). */
  private openParams(run: RunState) {
    const { model: m } = this.r;
    run.params = trainableParams(
      m.params as Record<string, tf.Variable>,
      m.lora,
      m.arch,
      run.c.train,
      run.sampler.epoch,
    );
    if (run.params.length === 0)
      throw new Error('Nothing to train: every layer is frozen. Unfreeze a block or switch train.method.');
    run.vars = run.params.map((p) => p.variable);
  }

  /** The training loss of a batch: cross-entropy, plus the KL to the base model and EWC's penalty where set. */
  private lossOf(run: RunState, b: Batch, seed: number): tf.Scalar {
    const { model: m } = this.r;
    const t = run.c.train;
    const lg = logits(m.params, m.arch, b.x, {
      lora: m.lora,
      training: true,
      dropoutSeed: seed,
      embedMode: m.embedMode,
    });
    let loss = maskedCrossEntropy(lg, b.y, b.w);
    if (run.baseParams) {
      const baseLg = logits(run.baseParams, m.arch, b.x, { lora: null, embedMode: m.embedMode });
      const pBase = tf.softmax(baseLg);
      const kl = tf.sum(tf.mul(pBase, tf.sub(tf.logSoftmax(baseLg), tf.logSoftmax(lg))), -1); // [N]
      const mean = tf.div(tf.sum(tf.mul(kl, b.w)), tf.maximum(tf.sum(b.w), 1));
      loss = tf.add(loss, tf.mul(mean, t.klToBase));
    }
    return run.ewc ? tf.add(loss, run.ewc.penalty(run.vars)) : loss;
  }

  /**
   * Gradients over gradAccumSteps micro-batches, each weighted by its target tokens, so that the step's loss is the
   * mean over every target token of the step: batch 1 × accumulate 8 equals batch 8.
   */
  private async gradients(run: RunState, watch: StepMemory | null): Promise<Grads> {
    const { model: m } = this.r;
    const t = run.c.train;
    let gSum: tf.Tensor[] = [];
    let lossSum: tf.Tensor = tf.scalar(0);
    let tokens = 0;
    let targets = 0;
    for (let k = 0; k < t.gradAccumSteps; k++) {
      const b = makeBatch(run.sampler.next(), m.arch.blockSize);
      tokens += b.tokens;
      targets += b.targets;
      const seed = run.rng.seed();
      const weight = t.gradAccumSteps > 1 ? b.targets : 1;
      const lossFn = (): tf.Scalar => {
        const l = this.lossOf(run, b, seed);
        watch?.forward();
        return weight === 1 ? l : (tf.mul(l, weight) as tf.Scalar);
      };
      watch?.micro();
      const { value, grads } = watch
        ? await watch.during(() => tf.variableGrads(lossFn, run.vars))
        : tf.variableGrads(lossFn, run.vars);
      const gList = run.vars.map((v) => grads[v.name]);
      if (k === 0) gSum = gList;
      else {
        const prev = gSum;
        gSum = prev.map((x, i) => tf.add(x, gList[i]));
        tf.dispose([...prev, ...gList]);
      }
      const ls = tf.add(lossSum, value);
      tf.dispose([lossSum, value]);
      lossSum = ls;
      disposeBatch(b);
    }
    const norm = t.gradAccumSteps > 1 ? Math.max(targets, 1) : 1;
    const mean: tf.Tensor[] = norm !== 1 ? gSum.map((g) => tf.div(g, norm)) : gSum;
    if (mean !== gSum) tf.dispose(gSum);
    return { mean, lossSum, norm, tokens, targets };
  }

  /** Loss and global gradient norm in one read-back (train/stats.ts). */
  private async readBack(g: Grads): Promise<{ loss: number; gradNorm: number }> {
    const stats = tf.tidy(() => lossAndGradNorm(tf.div(g.lossSum, g.norm), g.mean));
    const [loss, gradNorm] = await stats.data();
    tf.dispose([stats, g.lossSum]);
    return { loss, gradNorm };
  }

  /**
   * Why this step must not be applied, or null: a loss of 0 or less over real targets (a broken backend: nothing
   * is updated), or a NaN/Inf or exploding loss (the weights roll back to the last step with a finite loss).
   */
  private badStep(run: RunState, g: Grads, loss: number, gradNorm: number): RunState['end'] {
    const t = run.c.train;
    if (g.targets > 0 && Number.isFinite(loss) && loss <= 0) {
      tf.dispose(g.mean);
      return {
        reason: 'backend_error',
        message: `Step ${run.step + 1} read back a loss of ${loss} over ${g.targets} target tokens, which no model can have: the ${this.r.backend} backend is returning wrong numbers. Nothing was updated; choose another backend.`,
      };
    }
    if (!(run.firstLoss > 0) && Number.isFinite(loss) && loss > 0) run.firstLoss = loss;
    const exploded =
      Number.isFinite(loss) && run.firstLoss > 0 && run.step > 0 && loss > t.divergenceFactor * run.firstLoss;
    if (Number.isFinite(loss) && Number.isFinite(gradNorm) && !exploded) return null;
    tf.dispose(g.mean);
    const what = exploded
      ? `loss ${loss.toFixed(3)} exceeded ${t.divergenceFactor}× the first loss (${run.firstLoss.toFixed(3)})`
      : `loss became ${loss} (gradient norm ${gradNorm})`;
    const badStep = run.step + 1;
    // the weights after the last update gave this loss; roll back to those before it, the last with a finite loss
    if (!run.lastGood.empty) {
      run.lastGood.restore();
      run.step -= 1;
    }
    return {
      reason: 'diverged',
      message: `Diverged at step ${badStep}: ${what}. Kept the weights from step ${run.step}; try a lower learning rate, warmup or gradient clipping.`,
    };
  }

  /** Clips by global norm and applies the optimizer at the scheduled rate (measuring memory on the watched step). */
  private async update(run: RunState, g: Grads, gradNorm: number, watch: StepMemory | null): Promise<number> {
    const t = run.c.train;
    const { model: m } = this.r;
    const lr = lrAt(run.step + 1, run.totalSteps, t);
    const clipScale = t.gradClip > 0 && gradNorm > t.gradClip ? t.gradClip / (gradNorm + 1e-6) : 1;
    const clipped = clipScale < 1 ? g.mean.map((x) => tf.mul(x, clipScale)) : g.mean;
    run.lastGood.take();
    if (watch) {
      await watch.during(() => run.optimizer.apply(run.params, clipped, lr));
      const trainable = new Set<tf.Tensor>(run.vars);
      const all = [...Object.values(m.params), ...(m.lora?.variables() ?? [])];
      run.memory = watch.parts({
        frozen: all.filter((v) => !trainable.has(v)),
        trainable: run.vars,
        optimizerState: run.optimizer.stateBytes(),
        gradients: bytesOf(g.mean),
      });
    } else run.optimizer.apply(run.params, clipped, lr);
    tf.dispose(g.mean);
    if (clipped !== g.mean) tf.dispose(clipped);
    return lr;
  }

  private async emitStep(
    run: RunState,
    cb: TrainCallbacks,
    s: { loss: number; gradNorm: number; lr: number; tokens: number; ms: number },
  ) {
    const mem = tf.memory();
    const ev: StepEvent = {
      type: 'step',
      step: run.step,
      epoch: run.sampler.epoch,
      loss: s.loss,
      lr: s.lr,
      gradNorm: s.gradNorm,
      tokensPerSec: (s.tokens * 1000) / s.ms,
      msPerStep: s.ms,
      numTensors: mem.numTensors,
      numBytes: mem.numBytes,
    };
    run.steps.push(ev);
    await cb.onStep?.(ev);
  }

  /** Every eval.everySteps (and at the end): evaluates, tracks the best, and says why to stop early, if it should. */
  private async evaluate(run: RunState, cb: TrainCallbacks): Promise<RunState['end']> {
    const { c, step } = run;
    const t = c.train;
    if (!(step % c.eval.everySteps === 0 || step === run.totalSteps)) return null;
    const e = await this.evaluation(step);
    run.evals.push(e);
    await cb.onEval?.(e);
    const value = t.earlyStopping.metric === 'valAccuracy' ? (e.valAccuracy ?? NaN) : e.valLoss;
    const { improved, stop } = run.stopper.observe(step, value);
    // the copy costs a full set of weights: only a run that can end early and roll back needs it
    if (improved && t.earlyStopping.enabled && t.earlyStopping.restoreBest) run.best.take();
    if (!stop) return null;
    return {
      reason: 'early_stop',
      message: `Early stop at step ${step}: ${t.earlyStopping.metric} did not improve by more than ${t.earlyStopping.minDelta} for ${t.earlyStopping.patience} evaluations (best at step ${run.stopper.bestStep}).`,
    };
  }

  /** Validation loss, general-text loss, and exact-match accuracy with a sample answer. */
  private async evaluation(step: number): Promise<EvalEvent> {
    const { model: m, config: c, data, tokenizer } = this.r;
    const t = c.train;
    const e: EvalEvent = { type: 'eval', step, valLoss: NaN, valPerplexity: NaN };
    if (data.val.length > 0) {
      e.valLoss = await evalLoss(m, data.val, t.batchSize, c.eval.maxBatches);
      e.valPerplexity = Math.exp(e.valLoss);
    }
    if (c.eval.general && data.general && data.general.length > 0)
      e.generalLoss = await evalLoss(m, data.general, t.batchSize, c.eval.maxBatches);
    const qs = data.valQuestions ?? [];
    if (qs.length > 0) {
      // accuracy decodes every validation question; otherwise just the first, as the evaluation's sample
      const asked = c.eval.accuracy ? qs : qs.slice(0, 1);
      const answers = await greedyAnswers(
        m,
        tokenizer,
        asked.map((q) => q.prompt),
        c.eval.maxNewTokens,
        c.eval.stop,
      );
      if (c.eval.accuracy)
        e.valAccuracy = answers.filter((a, i) => exactMatch(a.text, qs[i].answer)).length / qs.length;
      e.sample = { prompt: tokenizer.decode(qs[0].prompt), text: answers[0].text };
    }
    return e;
  }

  /** The end event (restoring the best weights where early stopping says so), the run's tensors freed, the history. */
  private finish(run: RunState): RunHistory {
    const { c, step, stopper, best } = run;
    const t = c.train;
    const end = run.end ?? { reason: 'completed' as const, message: `Completed ${step} steps.` };
    const restoredBest =
      t.earlyStopping.restoreBest &&
      t.earlyStopping.enabled &&
      !best.empty &&
      stopper.bestStep !== step &&
      end.reason !== 'diverged';
    if (restoredBest) best.restore();
    const bestEval = run.evals.find((e) => e.step === stopper.bestStep);
    const endEvent: EndEvent = {
      type: 'end',
      ...end,
      step,
      bestStep: stopper.bestStep,
      bestValLoss: bestEval?.valLoss ?? NaN,
      bestValAccuracy: bestEval?.valAccuracy,
      restoredBest,
    };
    if (restoredBest) endEvent.message += ` Restored the weights from step ${stopper.bestStep}.`;
    // leave every variable trainable-flag as the final state decided, then free the run's own tensors
    run.optimizer.dispose();
    run.lastGood.dispose();
    best.dispose();
    if (run.baseParams && run.baseParams !== this.r.model.params) tf.dispose(Object.values(run.baseParams));
    run.ewc?.dispose();
    return {
      config: c,
      steps: run.steps,
      evals: run.evals,
      end: endEvent,
      warmupEndStep: t.warmupSteps,
      trainableParams: run.params.reduce((n, p) => n + p.variable.size, 0),
      totalParams: this.r.totalParams,
      backend: this.r.backend,
      ...(c.eval.peakMemory && run.memory ? { peakBytes: run.memory.peak, memory: run.memory } : {}),
    };
  }
}

/** What one run holds from its first step to its end (Trainer.begin makes it). */
interface RunState {
  c: RunConfig;
  rng: Rng;
  sampler: BatchSampler;
  totalSteps: number;
  optimizer: Optimizer;
  stopper: EarlyStopper;
  lastGood: Snapshot; // the weights before the last update, for a rollback
  best: Snapshot; // the best evaluation's weights, for early stopping's restore
  baseParams: Params | null; // the base model the KL term compares with
  ewc: Ewc | null;
  steps: StepEvent[];
  evals: EvalEvent[];
  firstLoss: number;
  step: number;
  end: { reason: EndReason; message: string } | null;
  params: OptimizerParam[]; // this step's trainable parameters
  vars: tf.Variable[];
  memory: MemoryParts | undefined;
}

/** A step's gradients before the update: their mean, the (unnormalised) loss sum, and what the batches held. */
interface Grads {
  mean: tf.Tensor[];
  lossSum: tf.Tensor;
  norm: number;
  tokens: number;
  targets: number;
}
