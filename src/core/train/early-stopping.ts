// Early stopping: watch one evaluation metric; stop after `patience` evaluations without an improvement
// larger than minDelta. Pure bookkeeping (no tensors), so a scripted curve can test it exactly.

import type { EarlyStoppingConfig } from '../config';

export class EarlyStopper {
  bestValue: number;
  bestStep = -1;
  private bad = 0;
  private readonly sign: number; // +1: lower is better (loss); -1: higher is better (accuracy)

  constructor(private readonly c: EarlyStoppingConfig) {
    this.sign = c.metric === 'valLoss' ? 1 : -1;
    this.bestValue = this.sign * Infinity;
  }

  /** Records one evaluation; returns whether it is a new best (so the caller can snapshot the weights). */
  observe(step: number, value: number): { improved: boolean; stop: boolean } {
    // a missing metric (no validation split, accuracy not measured) neither improves nor uses up patience
    if (!Number.isFinite(value)) return { improved: false, stop: false };
    const improved = this.sign * (this.bestValue - value) > this.c.minDelta;
    if (improved || this.bestStep < 0) {
      this.bestValue = value;
      this.bestStep = step;
      this.bad = 0;
      return { improved: true, stop: false };
    }
    this.bad++;
    return { improved: false, stop: this.c.enabled && this.bad >= this.c.patience };
  }

  get evalsWithoutImprovement(): number {
    return this.bad;
  }
}
