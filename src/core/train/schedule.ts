// Learning rate at a step: linear warmup, then constant, linear decay or cosine decay to minLrRatio·lr.
// Follows nanoGPT's get_lr, with steps counted from 1 (the first update uses step 1).

import type { TrainConfig } from '../config';

export function lrAt(
  step: number,
  totalSteps: number,
  c: Pick<TrainConfig, 'lr' | 'schedule' | 'warmupSteps' | 'minLrRatio'>,
): number {
  const minLr = c.lr * c.minLrRatio;
  // 1) warmup: rises linearly, reaching lr at step == warmupSteps
  if (step <= c.warmupSteps) return (c.lr * step) / Math.max(1, c.warmupSteps);
  if (c.schedule === 'constant') return c.lr;
  // 2) after warmup: progress runs 0 → 1 from the end of warmup to the last step
  const span = Math.max(1, totalSteps - c.warmupSteps);
  const progress = Math.min(1, (step - c.warmupSteps) / span);
  // 3) linear or cosine decay from lr to minLr
  if (c.schedule === 'linear') return c.lr - (c.lr - minLr) * progress;
  return minLr + 0.5 * (c.lr - minLr) * (1 + Math.cos(Math.PI * progress));
}
