// Lesson 4: a learning rate ten times too high. Each update overshoots, so the loss stops falling early and
// bounces at a high level; a sane rate, or warmup with a decaying schedule, lets it settle.

import { currentRun, lossOn, num, valEvals } from './measure';
import type { Lesson } from './types';
import type { RunHistory } from '../train/types';

/** Evaluations at which validation loss went up from the one before: a settling run has few. */
function setbacks(h: RunHistory): number {
  const v = valEvals(h).map((e) => e.valLoss);
  return v.slice(1).filter((x, i) => x > v[i]).length;
}

export const learningRate: Lesson = {
  id: 'learning-rate',
  number: 4,
  title: 'Learning rate too high',
  summary: 'Steps so large that the loss stalls and bounces instead of settling.',
  explanation:
    'The learning rate sets how far each update moves the weights. Too far, and an update jumps over the valley ' +
    'it was heading into and lands on the other slope: the loss bounces up and down and stops improving long ' +
    'before it should. With plain gradient descent the jumps can grow until the loss explodes; AdamW, used here, ' +
    'caps each weight’s step near the learning rate, so instead of exploding the run stalls at a poor loss. (That ' +
    'is also why gradient clipping does not help here: AdamW divides the gradient by its own size, so a clipped ' +
    'gradient makes the same step. Clipping guards against rare huge gradients, not against a rate that is too ' +
    'high.) The fix is a smaller rate; a warmup with a decaying schedule also works, because the run ends with ' +
    'small steps that can settle into the valley.',
  watch: 'Compare the validation curves: the pitfall stalls and zig-zags, the fixes keep going down.',
  base: {
    data: { dataset: 'qa' },
    train: { lr: 3e-2, batchSize: 8, maxSteps: 60, gradClip: 0, schedule: 'constant', warmupSteps: 0 },
    eval: { everySteps: 5, maxBatches: 0, general: false },
  },
  pitfall: { id: 'pitfall', label: 'Pitfall: lr 3e-2', override: {} },
  fixes: [
    { id: 'lower-lr', label: 'Fix: lr 3e-3', override: { train: { lr: 3e-3 } } },
    {
      id: 'warmup',
      label: 'Fix: warmup 20 steps + cosine decay',
      override: { train: { warmupSteps: 20, schedule: 'cosine' } },
    },
  ],
  controls: ['train.lr', 'train.warmupSteps', 'train.schedule', 'train.gradClip'],
  async measure(session) {
    return { valLoss: await lossOn(session, currentRun(session).data.val) };
  },
  diagnose(h, m) {
    const diverged = h.end.reason === 'diverged';
    const ups = setbacks(h);
    const evals = valEvals(h).length;
    const metrics = { valLoss: m.valLoss, setbacks: ups, diverged: Number(diverged), peakLr: h.config.train.lr };
    const showsPitfall = diverged || ups >= 3;
    const text = diverged
      ? `The loss blew up at step ${h.end.step + 1}; the weights kept from before reach validation loss ${num(m.valLoss)}: the learning rate is far too high.`
      : `Validation loss went up at ${ups} of ${evals - 1} evaluations and ended at ${num(m.valLoss)}` +
        (showsPitfall ? ': the steps overshoot instead of settling.' : ': the run settled.');
    return { text, showsPitfall, metrics };
  },
};
