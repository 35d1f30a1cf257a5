// Runs a lesson variant end to end: config = defaults + lesson.base + variant.override (+ the caller's), then
// prepare, train, measure, diagnose. Variants with trials (k-fold cross-validation, hyperparameter search)
// train once per trial and combine the results. The page, the CLI, the tests and docs/LESSONS.md all use this.

import { mergeConfig, type DeepPartial, type RunConfig } from '../config';
import type { DataRecord } from '../data/types';
import { lessonConfig, variantOf } from '../rules';
import type { Run, Session } from '../session';
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
  override?: DeepPartial<RunConfig>; // the caller's settings over the variant's (a test's shorter run, the page's setup)
  callbacks?: TrainCallbacks;
  /** A trial is prepared and about to train; callbacks returned here hear that trial (the page streams each run). */
  onTrialStart?(run: Run, label: string, index: number, of: number): TrainCallbacks | void;
  /** A trial is trained and measured; the next starts once a returned promise settles. */
  onTrial?(t: TrialResult, index: number, of: number): void | Promise<void>;
  custom?: DataRecord[]; // records to train on instead of the configured dataset
}

/** A trial was stopped by the user: the variant has no result to diagnose. */
export class LessonStopped extends Error {
  constructor(
    readonly trial: string,
    readonly history: RunHistory,
  ) {
    super(`The lesson run was stopped during "${trial}", so there is nothing to diagnose.`);
  }
}

/** Trains one run on the session and measures it. */
export async function runTrial(
  session: Session,
  lesson: Lesson,
  label: string,
  config: RunConfig,
  o: RunLessonOptions = {},
  index = 0,
  of = 1,
): Promise<TrialResult> {
  const t0 = performance.now();
  const run = await session.prepare(config, o.custom);
  const history = await session.train(o.onTrialStart?.(run, label, index, of) ?? o.callbacks);
  if (history.end.reason === 'stopped') throw new LessonStopped(label, history);
  return finishTrial(session, lesson, label, history, t0);
}

/** Measures a run that has just finished training on the session. */
export async function finishTrial(
  session: Session,
  lesson: Lesson,
  label: string,
  history: RunHistory,
  t0 = performance.now(),
): Promise<TrialResult> {
  const measures = lesson.measure ? await lesson.measure(session, history) : {};
  return {
    label,
    config: history.config,
    history,
    measures,
    valLoss: finalValLoss(history),
    seconds: (performance.now() - t0) / 1000,
  };
}

export async function runLesson(
  session: Session,
  lesson: Lesson,
  variantId: string,
  o: RunLessonOptions = {},
): Promise<LessonResult> {
  const variant = variantOf(lesson, variantId);
  const config = lessonConfig(lesson, variantId, o.override);
  const runs = variant.trials?.runs ?? [{ label: variant.label, override: {} }];
  const trials: TrialResult[] = [];
  for (const [i, r] of runs.entries()) {
    // a trial's override (a fold's index, a search point) goes on top of everything; the caller's settings that no
    // trial sets (a test's shorter run, the learner's changes, the CLI's --set) hold in every trial
    const t = await runTrial(session, lesson, r.label, mergeConfig(config, r.override), o, i, runs.length);
    trials.push(t);
    await o.onTrial?.(t, i, runs.length);
  }
  return combine(lesson, variant, config, trials);
}

/** One result from a variant's runs: the plain run, the folds' average, or the search's best. */
export function combine(
  lesson: Lesson,
  variant: LessonVariant,
  config: RunConfig,
  trials: TrialResult[],
): LessonResult {
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
  return {
    lesson: lesson.id,
    variant: variant.id,
    config,
    history,
    measures,
    diagnosis: lesson.diagnose(history, measures),
    trials,
  };
}
