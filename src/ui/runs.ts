// A run as the page keeps it: everything a RunHistory holds plus the samples and the page's bookkeeping.
// Plain data, so it goes into IndexedDB, a JSON export and back unchanged.

import type { RunConfig } from '../core/config';
import type { EndEvent, EvalEvent, StepEvent } from '../core/train/types';
import type { Sample } from '../protocol';
import { STEP_FIELDS } from '../protocol';

export interface StoredRun {
  id: string;
  createdAt: number; // ms since epoch
  config: RunConfig;
  dataLabel: string; // the built-in dataset's name or the uploaded file's name
  backend: string;
  steps: StepEvent[];
  evals: EvalEvent[];
  samples: Sample[];
  end: EndEvent | null; // null while it trains (or if the tab closed before it ended)
  failure: string | null; // why it ended without an end event (worker crash, lost GPU, closed tab)
  totalSteps: number;
  trainableParams: number;
  totalParams: number;
  warmupEndStep: number;
  lesson: RunLesson | null; // the lesson variant the run belongs to, with its diagnosis once measured
}

export interface RunLesson {
  id: string;
  title: string;
  variant: string;
  variantLabel: string;
  trial: string | null; // "fold 2 of 4" for a variant that trains several runs
  diagnosis: { text: string; showsPitfall: boolean } | null;
}

export function newRunId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The plain words for how a run ended. */
export function endWords(r: Pick<StoredRun, 'end' | 'failure' | 'steps'>): string {
  if (r.failure) return r.failure;
  const e = r.end;
  if (!e) return 'Not finished.';
  switch (e.reason) {
    case 'completed':
      return `Completed all ${e.step} steps.`;
    case 'early_stop':
      return `Early stop at step ${e.step} (best at step ${e.bestStep}${e.restoredBest ? ', weights restored' : ''}).`;
    case 'diverged':
    case 'backend_error':
      return e.message; // already plain: the step, why, and what was kept
    case 'stopped':
      return `Stopped by you after step ${e.step}.`;
  }
}

export function isRun(x: unknown): x is StoredRun {
  const r = x as StoredRun;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.id === 'string' &&
    typeof r.config === 'object' &&
    Array.isArray(r.steps) &&
    Array.isArray(r.evals)
  );
}

/** Curves as CSV: one row per step, evaluation columns filled on the steps that were evaluated. */
export function runCsv(r: StoredRun): string {
  const evalAt = new Map(r.evals.map((e) => [e.step, e]));
  const head = [...STEP_FIELDS, 'valLoss', 'generalLoss', 'valAccuracy'];
  const num = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : String(v));
  const rows = r.steps.map((s) => {
    const e = evalAt.get(s.step);
    return [...STEP_FIELDS.map((f) => num(s[f])), num(e?.valLoss), num(e?.generalLoss), num(e?.valAccuracy)].join(',');
  });
  return [head.join(','), ...rows].join('\n') + '\n';
}
