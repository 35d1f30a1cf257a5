// The numbers a run reports. Plain data, so they cross a worker boundary and land in IndexedDB unchanged.

import type { RunConfig } from '../config';
import type { MemoryParts } from './memory';

export interface StepEvent {
  type: 'step';
  step: number; // optimizer steps done (1-based)
  epoch: number; // fractional epochs done
  loss: number; // training loss of this step (mean over its micro-batches)
  lr: number; // learning rate used for this step
  gradNorm: number; // global L2 norm of the gradient before clipping
  tokensPerSec: number; // training tokens (inputs) processed per second in this step
  msPerStep: number; // wall time of this step
  numTensors: number; // tf.memory().numTensors after the step (a leak shows as growth)
  numBytes: number; // tf.memory().numBytes after the step
}

export interface EvalEvent {
  type: 'eval';
  step: number;
  valLoss: number; // mean next-token loss on the validation split (completion tokens)
  valPerplexity: number; // exp(valLoss)
  generalLoss?: number; // loss on held-out general text: rises when the model forgets
  valAccuracy?: number; // exact-match accuracy of greedy answers on validation (when eval.accuracy)
  sample?: { prompt: string; text: string }; // the first validation prompt and the model's short greedy answer
}

export type EndReason = 'completed' | 'early_stop' | 'diverged' | 'stopped' | 'backend_error';

export interface EndEvent {
  type: 'end';
  reason: EndReason;
  message: string; // one plain sentence: why the run ended
  step: number; // last optimizer step taken
  bestStep: number; // step of the best evaluation (-1 when never evaluated)
  bestValLoss: number; // NaN when never evaluated
  bestValAccuracy?: number;
  restoredBest: boolean; // the weights were rolled back to bestStep
}

export type RunEvent = StepEvent | EvalEvent | EndEvent;

/** What a run is about to do, before its first step. */
export interface StartEvent {
  totalSteps: number; // steps the run takes unless it ends early
  trainableParams: number; // weights the optimizer updates at the first step (gradual unfreezing adds more later)
}

/** The trainer awaits what each callback returns before it goes on: the weights hold still while one runs. */
export interface TrainCallbacks {
  onStart?(e: StartEvent): unknown;
  onStep?(e: StepEvent): unknown;
  onEval?(e: EvalEvent): unknown;
}

/** Everything a finished (or stopped) run leaves behind: what lessons diagnose and the page stores. */
export interface RunHistory {
  config: RunConfig;
  steps: StepEvent[];
  evals: EvalEvent[];
  end: EndEvent;
  warmupEndStep: number;
  trainableParams: number;
  totalParams: number;
  backend: string;
  peakBytes?: number; // with eval.peakMemory: the most tensor bytes at any moment of the watched step (memory.peak)
  memory?: MemoryParts; // with eval.peakMemory: that step's memory by part (train/memory.ts)
}
