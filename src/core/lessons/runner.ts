// Runs a lesson variant end to end: config = defaults + lesson.base + variant.override (+ the caller's), then
// prepare, train, measure, diagnose. Variants with trials (k-fold cross-validation, hyperparameter search)
// train once per trial and combine the results. The page, the CLI, the tests and docs/LESSONS.md all use this.

import { defaultConfig, mergeConfig, type DeepPartial, type RunConfig } from '../config';
import type { DataRecord } from '../data/types';
import type { Session } from '../session';
import type { RunHistory, TrainCallbacks } from '../train/types';
import { finalValLoss, mean, std } from './measure';
import type { Diagnosis, Lesson, LessonVariant, Measures } from './types';

/** One training run inside a lesson variant (the only one, or one fold or search trial). */
export interface TrialResult {
  label: string;
  config: RunConfig;
  history: RunHistory;
  measures: Measures;
  valLoss: number; // validation loss of the weights the run ended with
  seconds: number; // wall time of prepare + train + measure
}

export interface LessonResult {
  lesson: string;
  variant: string;
  config: RunConfig; // the variant's config (before any trial's override)
  history: RunHistory; // the run the diagnosis reads: the only one, the first fold, or the search's best
  measures: Measures;
  diagnosis: Diagnosis;
  trials: TrialResult[]; // every run, in order (one for a plain variant)
}

export interface RunLessonOptions {
  override?: DeepPartial<RunConfig>; // the caller's last word (a test's shorter run, the page's backend)
  callbacks?: TrainCallbacks;
  onTrial?(t: TrialResult, index: number, of: number): void;
  custom?: DataRecord[]; // records to train on instead of the configured dataset
}

export function variantOf(lesson: Lesson, id: string): LessonVariant {
  const all = [lesson.pitfall, ...lesson.fixes];
  const v = all.find((x) => x.id === id);
  if (!v) throw new Error(`lesson "${lesson.id}" has no variant "${id}"; choose one of ${all.map((x) => x.id).join(', ')}`);
  return v;
}

/** The variant's full config: defaults, then the lesson's shared settings, the variant's, and the caller's. */
export function lessonConfig(lesson: Lesson, variantId: string, override?: DeepPartial<RunConfig>): RunConfig {
  return mergeConfig(defaultConfig(), lesson.base, variantOf(lesson, variantId).override, override);
}

/** Trains one run on the session and measures it. */
export async function runTrial(session: Session, lesson: Lesson, label: string, config: RunConfig, o: RunLessonOptions = {}): Promise<TrialResult> {
  const t0 = performance.now();
  await session.prepare(config, o.custom);
  const history = await session.train(o.callbacks);
  return finishTrial(session, lesson, label, history, t0);
}

/** Measures a run that has just finished training on the session. */
export async function finishTrial(session: Session, lesson: Lesson, label: string, history: RunHistory, t0 = performance.now()): Promise<TrialResult> {
  const measures = lesson.measure ? await lesson.measure(session, history) : {};
  return { label, config: history.config, history, measures, valLoss: finalValLoss(history), seconds: (performance.now() - t0) / 1000 };
}

export async function runLesson(session: Session, lesson: Lesson, variantId: string, o: RunLessonOptions = {}): Promise<LessonResult> {
  const variant = variantOf(lesson, variantId);
  const config = lessonConfig(lesson, variantId, o.override);
  const runs = variant.trials?.runs ?? [{ label: variant.label, override: {} }];
  const trials: TrialResult[] = [];
  for (const [i, r] of runs.entries()) {
    // the caller's override stays on top, so a test's shorter run stays short in every trial
    const t = await runTrial(session, lesson, r.label, mergeConfig(config, r.override, o.override), o);
    trials.push(t);
    o.onTrial?.(t, i, runs.length);
  }
  return combine(lesson, variant, config, trials);
}

/** One result from a variant's runs: the plain run, the folds' average, or the search's best. */
export function combine(lesson: Lesson, variant: LessonVariant, config: RunConfig, trials: TrialResult[]): LessonResult {
  let history = trials[0].history;
  let measures: Measures = trials[0].measures;
  if (variant.trials) {
    const losses = trials.map((t) => t.valLoss);
    const best = losses.reduce((b, l, i) => (l < losses[b] ? i : b), 0);
    const stats: Measures = {
      trialValLossMean: mean(losses),
      trialValLossStd: std(losses),
      trialValLossMin: Math.min(...losses),
      trialValLossMax: Math.max(...losses),
      trialCount: trials.length,
      trialSteps: trials.reduce((n, t) => n + t.history.steps.length, 0),
      trialSeconds: trials.reduce((n, t) => n + t.seconds, 0),
      bestTrial: best,
    };
    if (variant.trials.kind === 'search') {
      history = trials[best].history;
      measures = { ...trials[best].measures, ...stats };
    } else {
      // folds: every measure averaged over the folds
      const keys = Object.keys(trials[0].measures).filter((k) => trials.every((t) => Number.isFinite(t.measures[k])));
      measures = { ...Object.fromEntries(keys.map((k) => [k, mean(trials.map((t) => t.measures[k]))])), ...stats };
    }
  }
  return { lesson: lesson.id, variant: variant.id, config, history, measures, diagnosis: lesson.diagnose(history, measures), trials };
}
