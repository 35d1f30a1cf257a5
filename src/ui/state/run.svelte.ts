// One run on screen: live while it trains (fed by the worker's progress batches) or loaded from storage.
// Series are $state.raw and replaced, never mutated in place, so each batch costs one reactive update.

import type { RunConfig } from '../../core/config';
import type { EndEvent, EvalEvent, RunHistory, StepEvent } from '../../core/train/types';
import { unpackSteps, type Progress, type RunStart, type Sample } from '../../protocol';
import { endWords, newRunId, type RunLesson, type StoredRun } from '../runs';

export type RunStatus = 'preparing' | 'training' | 'paused' | 'stopping' | 'finished' | 'failed';

export class RunState {
  readonly id: string;
  readonly createdAt: number;
  readonly config: RunConfig;
  readonly dataLabel: string;
  backend = $state('');
  status = $state<RunStatus>('preparing');
  steps = $state.raw<StepEvent[]>([]);
  evals = $state.raw<EvalEvent[]>([]);
  samples = $state.raw<Sample[]>([]);
  end = $state.raw<EndEvent | null>(null);
  failure = $state<string | null>(null);
  totalSteps = $state(0);
  trainableParams = $state(0);
  totalParams = $state(0);
  warmupEndStep = $state(0);
  lesson = $state.raw<RunLesson | null>(null);
  /** performance.now() when the first step began (for the ETA). */
  private firstStepAt = $state(0);
  now = $state(0);

  constructor(init: {
    config: RunConfig;
    dataLabel: string;
    backend: string;
    id?: string;
    createdAt?: number;
    lesson?: RunLesson | null;
  }) {
    this.id = init.id ?? newRunId();
    this.createdAt = init.createdAt ?? Date.now();
    this.config = init.config;
    this.dataLabel = init.dataLabel;
    this.backend = init.backend;
    this.warmupEndStep = init.config.train.warmupSteps;
    this.lesson = init.lesson ?? null;
  }

  static fromStored(r: StoredRun): RunState {
    const s = new RunState(r);
    s.status = r.end ? 'finished' : 'failed';
    s.steps = r.steps;
    s.evals = r.evals;
    s.samples = r.samples;
    s.end = r.end;
    s.failure = r.failure;
    s.totalSteps = r.totalSteps;
    s.trainableParams = r.trainableParams;
    s.totalParams = r.totalParams;
    s.warmupEndStep = r.warmupEndStep;
    return s;
  }

  readonly last = $derived(this.steps.at(-1));
  readonly step = $derived(this.last?.step ?? 0);
  readonly active = $derived(
    this.status === 'preparing' || this.status === 'training' || this.status === 'paused' || this.status === 'stopping',
  );
  readonly fraction = $derived(this.totalSteps > 0 ? Math.min(1, this.step / this.totalSteps) : 0);
  /** Milliseconds left at the pace so far (evaluations included); NaN before the first step. */
  readonly etaMs = $derived(
    this.active && this.step > 0 && this.firstStepAt > 0
      ? ((this.now - this.firstStepAt) / this.step) * (this.totalSteps - this.step)
      : NaN,
  );
  readonly endText = $derived(this.active ? '' : endWords(this));

  /** The worker has prepared the run: its size, before the first step. */
  start(s: RunStart) {
    this.totalSteps = s.totalSteps;
    this.trainableParams = s.trainableParams;
    this.totalParams = s.totalParams;
    if (this.status === 'preparing') this.status = 'training';
  }

  apply(p: Progress) {
    const now = performance.now();
    if (p.steps.length > 0) {
      const fresh = unpackSteps(p.steps);
      if (this.firstStepAt === 0) this.firstStepAt = now - fresh[0].msPerStep;
      this.steps = [...this.steps, ...fresh];
    }
    if (p.evals.length > 0) this.evals = [...this.evals, ...p.evals];
    if (p.samples.length > 0) this.samples = [...this.samples, ...p.samples];
    this.now = now;
  }

  finish(h: RunHistory) {
    // the history is the authority: it holds every step even if a progress message was still in flight
    this.steps = h.steps;
    this.evals = h.evals;
    this.end = h.end;
    this.backend = h.backend;
    this.trainableParams = h.trainableParams;
    this.totalParams = h.totalParams;
    this.warmupEndStep = h.warmupEndStep;
    this.status = 'finished';
  }

  fail(message: string) {
    this.failure = message;
    this.status = 'failed';
  }

  toStored(): StoredRun {
    return {
      id: this.id,
      createdAt: this.createdAt,
      config: this.config,
      dataLabel: this.dataLabel,
      backend: this.backend,
      steps: this.steps,
      evals: this.evals,
      samples: this.samples,
      end: this.end,
      failure: this.active ? null : this.failure,
      totalSteps: this.totalSteps,
      trainableParams: this.trainableParams,
      totalParams: this.totalParams,
      warmupEndStep: this.warmupEndStep,
      lesson: this.lesson,
    };
  }
}
