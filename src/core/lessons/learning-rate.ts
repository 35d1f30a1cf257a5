// Lesson 4: a learning rate ten times too high. Each update overshoots, so the loss stops falling early and
// bounces at a high level; a sane rate, or warmup with a decaying schedule, lets it settle.

import { baseLossOn, currentRun, giveBack, lossOn, num, pct, valEvals } from './measure';
import type { Lesson } from './types';
import type { RunHistory } from '../train/types';

/**
 * Validation loss over the second half of the run: how often it went up, and how far its rises there added up,
 * as a share of all the run had gained from the base model's loss to its best. A run that settles climbs back by
 * little, whatever it did early on (a warmup's peak bounces too); one bouncing on a plateau climbs back by a good
 * part of its gain, again and again.
 */
function lateRises(h: RunHistory, baseValLoss: number) {
  const v = valEvals(h).map((e) => e.valLoss);
  const late = giveBack(v.slice(Math.max(0, Math.floor(v.length / 2) - 1)));
  const gained = baseValLoss - Math.min(...v);
  return { ups: late.ups, moves: late.moves, share: gained > 0 ? late.rises / gained : NaN };
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
    model: { name: 'tiny-world' },
    data: { dataset: 'qa' },
    // 120 steps: long enough for the too-high rate to reach its floor and bounce there (at 60, one seed of five was
    // still falling). Evaluated every 4 steps: 15 moves in the second half
    train: { lr: 3e-2, batchSize: 8, maxSteps: 120, gradClip: 0, schedule: 'constant', warmupSteps: 0 },
    eval: { everySteps: 4, maxBatches: 0, general: false },
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
    const val = currentRun(session).data.val;
    return { valLoss: await lossOn(session, val), baseValLoss: await baseLossOn(session, val) };
  },
  diagnose(h, m) {
    const diverged = h.end.reason === 'diverged';
    const w = lateRises(h, m.baseValLoss);
    const metrics = {
      valLoss: m.valLoss,
      lateRise: w.share,
      lateSetbacks: w.ups,
      diverged: Number(diverged),
      peakLr: h.config.train.lr,
    };
    // climbing back by over a tenth of the whole gain within the second half is bouncing, not settling (a run that
    // learned nothing has no gain to climb back on: that is lesson 2's pitfall, not this one)
    const showsPitfall = diverged || w.share > 0.1;
    const climbed = Number.isFinite(w.share)
      ? `climbing back by ${pct(w.share)} of all it had fallen from the base model's ${num(m.baseValLoss)}`
      : `never below the base model's ${num(m.baseValLoss)}`;
    const text = diverged
      ? `The loss blew up at step ${h.end.step + 1}; the weights kept from before reach validation loss ${num(m.valLoss)}: the learning rate is far too high.`
      : `In the second half of the run validation loss went up at ${w.ups} of ${w.moves} evaluations, ${climbed}, and ended at ${num(m.valLoss)}` +
        (showsPitfall
          ? ': the steps still overshoot instead of settling.'
          : w.share < 0.03
            ? ': the run settled.'
            : '.');
    return { text, showsPitfall, metrics };
  },
};
