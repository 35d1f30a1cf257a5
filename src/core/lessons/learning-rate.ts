// Lesson 4: a learning rate ten times too high. Each update overshoots, so the loss stops falling early and
// bounces at a high level; a sane rate, or warmup with a decaying schedule, lets it settle.

import { currentRun, lossOn, num, valEvals } from './measure';
import type { Lesson } from './types';
import type { RunHistory } from '../train/types';

/**
 * Evaluations in the second half of the run at which validation loss went up from the one before, and how many
 * were compared. A run that settles has few there, whatever it did early on (a warmup's peak bounces too).
 */
function lateSetbacks(h: RunHistory): { ups: number; of: number } {
  const v = valEvals(h).map((e) => e.valLoss);
  const from = Math.floor(v.length / 2);
  const late = v.slice(from).map((x, i) => x > v[from + i - 1]);
  return { ups: late.filter(Boolean).length, of: late.length };
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
  watch: 'Compare the second half of the validation curves: the pitfall still zig-zags, the fixes settle.',
  base: {
    data: { dataset: 'qa' },
    train: { lr: 3e-2, batchSize: 8, maxSteps: 60, gradClip: 0, schedule: 'constant', warmupSteps: 0 },
    // evaluated every 2 steps: 15 comparisons in the second half, so one bounce more or less does not decide it
    eval: { everySteps: 2, maxBatches: 0, general: false },
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
    const { ups, of } = lateSetbacks(h);
    const metrics = { valLoss: m.valLoss, lateSetbacks: ups, diverged: Number(diverged), peakLr: h.config.train.lr };
    // a loss bouncing on a plateau goes up about half the time, one settling into a valley seldom does
    const showsPitfall = diverged || ups >= of / 3;
    const text = diverged
      ? `The loss blew up at step ${h.end.step + 1}; the weights kept from before reach validation loss ${num(m.valLoss)}: the learning rate is far too high.`
      : `In the second half of the run validation loss went up at ${ups} of ${of} evaluations and ended at ${num(m.valLoss)}` +
        (showsPitfall ? ': the steps still overshoot instead of settling.' : ': the run settled.');
    return { text, showsPitfall, metrics };
  },
};
