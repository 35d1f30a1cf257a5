// Lesson 4: a learning rate far too high: the loss spikes and the run diverges. A sane rate, a warmup, or
// gradient clipping keeps the updates small enough to follow the slope.

import { currentRun, lossOn, lossSpikes, num } from './measure';
import type { Lesson } from './types';

export const learningRate: Lesson = {
  id: 'learning-rate',
  number: 4,
  title: 'Learning rate too high',
  summary: 'Steps so large that the loss jumps up instead of down, until the run blows up.',
  explanation:
    'The learning rate sets how far each update moves the weights along the gradient. Too far, and an update ' +
    'overshoots the valley it was heading into: the loss jumps up instead of down, gradients grow, the next ' +
    'step overshoots further, and the run diverges (here it stops on its own once the loss is several times ' +
    'its starting value, and keeps the last good weights). A smaller rate is the direct fix. A warmup starts ' +
    'with tiny steps while the optimiser’s statistics are still unreliable, and gradient clipping caps the ' +
    'size of any single update, so one bad batch cannot throw the weights far away.',
  watch: 'Watch the training loss: spikes, then a climb; the gradient norm explodes just before.',
  base: {
    data: { dataset: 'qa' },
    train: { optimizer: 'sgd', lr: 3, momentum: 0.9, batchSize: 8, maxSteps: 60, gradClip: 0, schedule: 'constant', warmupSteps: 0 },
    eval: { everySteps: 10, maxBatches: 0, general: false },
  },
  pitfall: { id: 'pitfall', label: 'Pitfall: lr 3, no clipping', override: {} },
  fixes: [
    { id: 'lower-lr', label: 'Fix: lr 0.3', override: { train: { lr: 0.3 } } },
    { id: 'warmup', label: 'Fix: warmup 30 steps + cosine', override: { train: { warmupSteps: 30, schedule: 'cosine' } } },
    { id: 'clipping', label: 'Fix: clip gradients at norm 1', override: { train: { gradClip: 1 } } },
  ],
  controls: ['train.lr', 'train.warmupSteps', 'train.schedule', 'train.gradClip'],
  async measure(session) {
    return { valLoss: await lossOn(session, currentRun(session).data.val) };
  },
  diagnose(h, m) {
    const diverged = h.end.reason === 'diverged';
    const spikes = lossSpikes(h);
    const first = h.steps[0]?.loss ?? NaN;
    const peak = Math.max(...h.steps.map((s) => s.loss));
    const metrics = { diverged: Number(diverged), spikes, valLoss: m.valLoss, peakRatio: peak / first, steps: h.steps.length };
    const showsPitfall = diverged || spikes >= 5;
    const text = diverged
      ? `The loss blew up at step ${h.end.step + 1} after ${spikes} spikes (peak ${num(peak)} against ${num(first)} at the start); the kept weights reach validation loss ${num(m.valLoss)}: the learning rate is too high.`
      : spikes >= 5
        ? `The loss spiked ${spikes} times (peak ${num(peak)}); validation loss ended at ${num(m.valLoss)}: the updates are too large to settle.`
        : `Training ran all ${h.steps.length} steps with ${spikes === 0 ? 'no' : spikes} loss spike${spikes === 1 ? '' : 's'} and reached validation loss ${num(m.valLoss)}: stable.`;
    return { text, showsPitfall, metrics };
  },
};
