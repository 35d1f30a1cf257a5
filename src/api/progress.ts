// A run's progress on its way to the page: step and eval events and samples collected and sent together, at most
// once every `everyMs`, the step series packed into one Float64Array that the caller's `transfer` hands over.

import type { EvalEvent, StepEvent } from '../core/train/types';
import { packSteps, type Progress, type Sample } from '../protocol';

export type Transfer = <T>(value: T, buffers: ArrayBuffer[]) => T;

export class ProgressBatcher {
  private steps: StepEvent[] = [];
  private evals: EvalEvent[] = [];
  private samples: Sample[] = [];
  private last = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly listener: (p: Progress) => void,
    private readonly everyMs: number,
    private readonly transfer: Transfer,
  ) {}

  step(e: StepEvent) {
    this.steps.push(e);
    this.schedule();
  }
  eval(e: EvalEvent) {
    this.evals.push(e);
    this.schedule();
  }
  sample(s: Sample) {
    this.samples.push(s);
    this.schedule();
  }

  private schedule() {
    if (this.timer) return;
    const wait = Math.max(0, this.last + this.everyMs - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  flush() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.steps.length + this.evals.length + this.samples.length === 0) return;
    const packed = packSteps(this.steps);
    const p: Progress = { steps: packed, evals: this.evals, samples: this.samples };
    this.steps = [];
    this.evals = [];
    this.samples = [];
    this.last = performance.now();
    // fire and forget: the page's answer carries nothing, and waiting would slow training
    void Promise.resolve(this.listener(this.transfer(p, [packed.buffer as ArrayBuffer]))).catch(() => undefined);
  }
}
