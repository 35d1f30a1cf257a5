// A lesson is data: prose, a config override that shows the pitfall, one or more fixes, and a diagnosis that
// reads a finished run and says in one sentence with numbers what happened. Nothing here is scripted: every
// number the diagnosis quotes comes from a real training run.

import type { DeepPartial, RunConfig } from '../config';
import type { Session } from '../session';
import type { RunHistory } from '../train/types';

export interface LessonVariant {
  id: string; // "pitfall", "early-stopping", "lower-lr", ...
  label: string; // short button text: "Fix: early stopping"
  override: DeepPartial<RunConfig>; // applied on top of the lesson's base override
  /**
   * Several runs instead of one (optional): each trial's override goes on top of this variant's config.
   * "folds": k-fold cross-validation, measures averaged over the folds; "search": a hyperparameter search,
   * the run with the lowest final validation loss is the result. Measures then also hold trialValLossMean,
   * trialValLossStd, trialValLossMin, trialValLossMax, trialCount, trialSteps, trialSeconds and bestTrial.
   */
  trials?: { kind: 'folds' | 'search'; runs: { label: string; override: DeepPartial<RunConfig> }[] };
}

/** Numbers a lesson measures after training (per-class accuracy, triggered accuracy, adapter bytes, ...). */
export type Measures = Record<string, number>;

export interface Diagnosis {
  text: string; // one plain sentence with the numbers: "validation loss bottomed at step 140 and rose 31% ..."
  showsPitfall: boolean; // whether this run shows the lesson's pitfall
  metrics: Record<string, number>; // the figures the sentence quotes (for tests and the LESSONS.md table)
}

export interface Lesson {
  id: string; // URL-safe id: "overfitting"
  number: number; // order in the picker
  title: string;
  summary: string; // one line for the picker
  explanation: string; // a short plain-words explanation of the pitfall (a few sentences)
  watch: string; // what to watch on the chart while it runs
  base: DeepPartial<RunConfig>; // settings shared by the pitfall and its fixes
  pitfall: LessonVariant;
  fixes: LessonVariant[];
  controls: string[]; // config paths the lesson needs visible ("train.lr", "lora.rank"); a teacher link can hide the rest
  /** Extra measurements after a run, taken on the trained model (optional). */
  measure?(session: Session, history: RunHistory): Promise<Measures>;
  diagnose(history: RunHistory, measures: Measures): Diagnosis;
}
