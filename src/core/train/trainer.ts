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

  private async loop(cb: TrainCallbacks): Promise<RunHistory> {
    const { model: m, config: c, data, tokenizer } = this.r;
    const t = c.train;
    const rng = new Rng(t.seed);
    const sampler = new BatchSampler(data.train, t.batchSize, rng.seed(), data.replay ?? [], c.data.generalMix);
    const { totalSteps } = stepsFor(c, data.train.length);
    const optimizer = new Optimizer(t);
    const stopper = new EarlyStopper(t.earlyStopping);
    // Everything that may ever train, for rollback (divergence) and best-weights (early stopping) snapshots.
    const candidates = m.lora && t.method === 'lora' ? m.lora.variables() : (Object.values(m.params) as tf.Variable[]);
    const lastGood = new Snapshot(candidates);
    const best = new Snapshot(candidates);
    // KL to the base model needs the base's predictions: for LoRA the base is the same weights without adapters;
    // for full fine-tuning, a frozen copy taken now.
    const baseParams: Params | null =
      t.klToBase > 0
        ? t.method === 'lora'
          ? m.params
          : Object.fromEntries(Object.entries(m.params).map(([k, v]) => [k, tf.keep(v.clone())]))
        : null;

    const steps: StepEvent[] = [];
    const evals: EvalEvent[] = [];
    let firstLoss = NaN;
    let step = 0;
    let end: { reason: EndReason; message: string } | null = null;
    let params: OptimizerParam[] = [];
    let memory: MemoryParts | undefined;
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

    let vars: tf.Variable[] = [];
    const lossOf = (b: Batch, seed: number): tf.Scalar => {
      const lg = logits(m.params, m.arch, b.x, {
        lora: m.lora,
        training: true,
        dropoutSeed: seed,
        embedMode: m.embedMode,
      });
      let loss = maskedCrossEntropy(lg, b.y, b.w);
      if (baseParams) {
        const baseLg = logits(baseParams, m.arch, b.x, { lora: null, embedMode: m.embedMode });
        const pBase = tf.softmax(baseLg);
        const kl = tf.sum(tf.mul(pBase, tf.sub(tf.logSoftmax(baseLg), tf.logSoftmax(lg))), -1); // [N]
        const mean = tf.div(tf.sum(tf.mul(kl, b.w)), tf.maximum(tf.sum(b.w), 1));
        loss = tf.add(loss, tf.mul(mean, t.klToBase));
      }
      return ewc ? tf.add(loss, ewc.penalty(vars)) : loss;
    };

    const evaluate = async (): Promise<EvalEvent> => {
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
    };

    while (step < totalSteps) {
      // a macrotask break each step: `await t.data()` resolves as a microtask on wasm/cpu, so without it a Worker
      // would not see Stop/Pause messages (or flush progress) until the run ended
      await new Promise((resolve) => setTimeout(resolve, 0));
      await this.serveWaiting();
      while (this.pauseGate) {
        if (this.waiting.length === 0)
          await Promise.race([this.pauseGate.promise, new Promise<void>((wake) => (this.wake = wake))]);
        this.wake = null;
        await this.serveWaiting();
      }
      if (this.stopRequested) {
        end = { reason: 'stopped', message: `Stopped by the user after step ${step}.` };
        break;
      }
      // the trainable set can change between steps (gradual unfreezing)
      const epoch = sampler.epoch;
      params = trainableParams(m.params as Record<string, tf.Variable>, m.lora, m.arch, t, epoch);
      if (params.length === 0)
        throw new Error('Nothing to train: every layer is frozen. Unfreeze a block or switch train.method.');
      vars = params.map((p) => p.variable);

      const t0 = performance.now();
      // eval.peakMemory watches the second step (the first where the optimizer state exists), or the only one
      const watch = c.eval.peakMemory && step === Math.min(1, totalSteps - 1) ? new StepMemory() : null;
      watch?.start();
      // 1) accumulate gradients over micro-batches, each weighted by its target tokens, so that the step's loss is
      //    the mean over every target token of the step: batch 1 × accumulate 8 equals batch 8
      let gSum: tf.Tensor[] = [];
      let lossSum: tf.Tensor = tf.scalar(0);
      let tokens = 0;
      let targets = 0;
      for (let k = 0; k < t.gradAccumSteps; k++) {
        const b = makeBatch(sampler.next(), m.arch.blockSize);
        tokens += b.tokens;
        targets += b.targets;
        const seed = rng.seed();
        const weight = t.gradAccumSteps > 1 ? b.targets : 1;
        const lossFn = (): tf.Scalar => {
          const l = lossOf(b, seed);
          watch?.forward();
          return weight === 1 ? l : (tf.mul(l, weight) as tf.Scalar);
        };
        watch?.micro();
        const { value, grads } = watch
          ? await watch.during(() => tf.variableGrads(lossFn, vars))
          : tf.variableGrads(lossFn, vars);
        const gList = vars.map((v) => grads[v.name]);
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
      const gMean: tf.Tensor[] = norm !== 1 ? gSum.map((g) => tf.div(g, norm)) : gSum;
      if (gMean !== gSum) tf.dispose(gSum);
      // 2) one read-back per step: loss and global gradient norm
      const stats = tf.tidy(() => lossAndGradNorm(tf.div(lossSum, norm), gMean));
      const [loss, gradNorm] = await stats.data();
      tf.dispose([stats, lossSum]);
      // Cross-entropy over real targets is never 0 (nor negative): such a read-back is a broken backend, not a result.
      if (targets > 0 && Number.isFinite(loss) && loss <= 0) {
        tf.dispose(gMean);
        end = {
          reason: 'backend_error',
          message: `Step ${step + 1} read back a loss of ${loss} over ${targets} target tokens, which no model can have: the ${this.r.backend} backend is returning wrong numbers. Nothing was updated; choose another backend.`,
        };
        break;
      }
      if (!(firstLoss > 0) && Number.isFinite(loss) && loss > 0) firstLoss = loss;
      const exploded = Number.isFinite(loss) && firstLoss > 0 && step > 0 && loss > t.divergenceFactor * firstLoss;
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm) || exploded) {
        tf.dispose(gMean);
        const what = exploded
          ? `loss ${loss.toFixed(3)} exceeded ${t.divergenceFactor}× the first loss (${firstLoss.toFixed(3)})`
          : `loss became ${loss} (gradient norm ${gradNorm})`;
        const badStep = step + 1;
        // the weights after the last update gave this loss; roll back to those before it, the last with a finite loss
        if (!lastGood.empty) {
          lastGood.restore();
          step -= 1;
        }
        end = {
          reason: 'diverged',
          message: `Diverged at step ${badStep}: ${what}. Kept the weights from step ${step}; try a lower learning rate, warmup or gradient clipping.`,
        };
        break;
      }
      // 3) clip, 4) update
      const lr = lrAt(step + 1, totalSteps, t);
      const clipScale = t.gradClip > 0 && gradNorm > t.gradClip ? t.gradClip / (gradNorm + 1e-6) : 1;
      const clipped = clipScale < 1 ? gMean.map((g) => tf.mul(g, clipScale)) : gMean;
      lastGood.take();
      if (watch) {
        await watch.during(() => optimizer.apply(params, clipped, lr));
        const trainable = new Set<tf.Tensor>(vars);
        const all = [...Object.values(m.params), ...(m.lora?.variables() ?? [])];
        memory = watch.parts({
          frozen: all.filter((v) => !trainable.has(v)),
          trainable: vars,
          optimizerState: optimizer.stateBytes(),
          gradients: bytesOf(gMean),
        });
      } else optimizer.apply(params, clipped, lr);
      tf.dispose(gMean);
      if (clipped !== gMean) tf.dispose(clipped);
      step++;
      const ms = performance.now() - t0;
      const mem = tf.memory();
      const ev: StepEvent = {
        type: 'step',
        step,
        epoch: sampler.epoch,
        loss,
        lr,
        gradNorm,
        tokensPerSec: (tokens * 1000) / ms,
        msPerStep: ms,
        numTensors: mem.numTensors,
        numBytes: mem.numBytes,
      };
      steps.push(ev);
      await cb.onStep?.(ev);

      // 5) evaluate, early stopping
      if (step % c.eval.everySteps === 0 || step === totalSteps) {
        const e = await evaluate();
        evals.push(e);
        await cb.onEval?.(e);
        const value = t.earlyStopping.metric === 'valAccuracy' ? (e.valAccuracy ?? NaN) : e.valLoss;
        const { improved, stop } = stopper.observe(step, value);
        // the copy costs a full set of weights: only a run that can end early and roll back needs it
        if (improved && t.earlyStopping.enabled && t.earlyStopping.restoreBest) best.take();
        if (stop) {
          end = {
            reason: 'early_stop',
            message: `Early stop at step ${step}: ${t.earlyStopping.metric} did not improve by more than ${t.earlyStopping.minDelta} for ${t.earlyStopping.patience} evaluations (best at step ${stopper.bestStep}).`,
          };
          break;
        }
      }
    }

    end ??= { reason: 'completed', message: `Completed ${step} steps.` };
    const restoredBest =
      t.earlyStopping.restoreBest &&
      t.earlyStopping.enabled &&
      !best.empty &&
      stopper.bestStep !== step &&
      end.reason !== 'diverged';
    if (restoredBest) best.restore();
    const bestEval = evals.find((e) => e.step === stopper.bestStep);
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
    optimizer.dispose();
    lastGood.dispose();
    best.dispose();
    if (baseParams && baseParams !== m.params) tf.dispose(Object.values(baseParams));
    ewc?.dispose();
    return {
      config: c,
      steps,
      evals,
      end: endEvent,
      warmupEndStep: t.warmupSteps,
      trainableParams: params.reduce((n, p) => n + p.variable.size, 0),
      totalParams: this.r.totalParams,
      backend: this.r.backend,
      ...(c.eval.peakMemory && memory ? { peakBytes: memory.peak, memory } : {}),
    };
  }
}
