// Lesson 5: batch size and gradient accumulation. The same 256 examples, seen one at a time (256 noisy updates)
// or eight at a time (32 steadier updates, with accumulation needing only one example's memory). Noise is judged
// on the validation split, measured every 16 examples in every variant: one example's training loss is noisy at
// any learning rate, so its zig-zag says nothing about the updates.

import { baseLossOn, currentRun, giveBack, lossOn, num, pct, valEvals } from './measure';
import type { Lesson } from './types';
import type { RunHistory } from '../train/types';

const EXAMPLES = 256;
const EVERY = 16; // examples between evaluations, in every variant

/** Validation loss from the base model's through every evaluation: how often it rose, and what it gave back. */
function wander(h: RunHistory, baseValLoss: number): { setbacks: number; evals: number; giveBack: number } {
  const w = giveBack([baseValLoss, ...valEvals(h).map((e) => e.valLoss)]);
  return { setbacks: w.ups, evals: w.moves, giveBack: w.giveBack };
}

export const batchSize: Lesson = {
  id: 'batch-size',
  number: 5,
  title: 'Batch size and gradient accumulation',
  summary: 'One example per update makes every step a guess; accumulation averages without the memory.',
  explanation:
    'Each update follows the gradient of one batch, an estimate of the gradient over the whole dataset. With ' +
    'a batch of one, that estimate depends on which single example came up: each update points somewhere else ' +
    'and, at a learning rate this high, the weights wander instead of settling, so validation loss goes up and down. A larger batch averages the noise ' +
    'away (or, the other way round, a batch of one needs a much smaller rate). When memory is what limits the batch, ' +
    'gradient accumulation runs several small batches, adds up their gradients and makes one update: the same ' +
    'average at the memory cost of one small batch. Here every variant sees the same number of examples, so ' +
    'the compute is equal; only how they are grouped into updates differs.',
  watch:
    'Compare the validation curves, measured every 16 examples in each run: the batch of one wanders up and down, the accumulated batch keeps going down.',
  base: {
    model: { name: 'tiny-world' },
    data: { dataset: 'qa' },
    train: { lr: 2e-2, batchSize: 1, gradAccumSteps: 1, maxSteps: EXAMPLES },
    eval: { everySteps: EVERY, maxBatches: 0, general: false },
  },
  pitfall: { id: 'pitfall', label: `Pitfall: batch 1 (${EXAMPLES} updates)`, override: {} },
  fixes: [
    // the same examples in a run of 32 updates: the step count and evaluation interval follow from the grouping
    {
      id: 'accumulate',
      label: 'Fix: batch 1 × accumulate 8',
      override: { train: { gradAccumSteps: 8, maxSteps: EXAMPLES / 8 }, eval: { everySteps: EVERY / 8 } },
    },
    {
      id: 'larger-batch',
      label: 'Fix: batch 8',
      override: { train: { batchSize: 8, maxSteps: EXAMPLES / 8 }, eval: { everySteps: EVERY / 8 } },
    },
  ],
  controls: ['train.batchSize', 'train.gradAccumSteps', 'train.maxSteps', 'train.lr'],
  async measure(session) {
    const val = currentRun(session).data.val;
    return { valLoss: await lossOn(session, val), baseValLoss: await baseLossOn(session, val) };
  },
  diagnose(h, m) {
    const t = h.config.train;
    const perUpdate = t.batchSize * t.gradAccumSteps;
    const { setbacks, evals, giveBack } = wander(h, m.baseValLoss);
    const metrics = { giveBack, setbacks, valLoss: m.valLoss, examplesPerUpdate: perUpdate, updates: h.steps.length };
    // a run that gives back more than a quarter of what it gains on the way down is wandering, not descending
    const showsPitfall = giveBack > 0.25;
    const how =
      t.gradAccumSteps > 1 ? `${t.gradAccumSteps} accumulated batches of ${t.batchSize}` : `batches of ${t.batchSize}`;
    const every = perUpdate * h.config.eval.everySteps;
    const text =
      `With ${how} (${perUpdate} example${perUpdate === 1 ? '' : 's'} per update, ${h.steps.length} updates), validation loss measured every ${every} examples went up at ${setbacks} of ${evals} evaluations, ` +
      `giving back ${pct(giveBack)} of what it gained, and ended at ${num(m.valLoss)} (base model ${num(m.baseValLoss)})` +
      (showsPitfall ? ': noisy updates.' : giveBack < 0.1 ? ': steady updates.' : '.');
    return { text, showsPitfall, metrics };
  },
};
