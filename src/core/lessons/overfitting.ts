// Lesson 1: a big adapter trained for many epochs on a couple of dozen records memorises them; validation loss
// turns round and climbs while training loss keeps falling.

import { bestEval, finalValLoss, moved, num, signedPct, trainLossTail } from './measure';
import type { Lesson } from './types';
import { LORA_TARGETS } from '../config';

export const overfitting: Lesson = {
  id: 'overfitting',
  number: 1,
  title: 'Overfitting a small dataset',
  summary: 'Twenty-four examples, a roomy adapter, many passes: the model memorises instead of learning.',
  explanation:
    'With only a few examples and many passes over them, the adapter has enough room to store each answer ' +
    'instead of learning how answers are found. Training loss keeps going down, but on questions it has not seen ' +
    'the model gets worse after a while. The validation curve is the only place this shows: it bottoms out and ' +
    'climbs while the training loss goes on falling below it. Stopping at the bottom (early stopping) or simply ' +
    'having more examples keeps the model on the side of generalising. (Three remedies that often help are not ' +
    'offered as fixes here, because on this model they did not help on every seed: a fixed run of 30 steps ended ' +
    'over 10% above its best on 2 seeds of 5, since the curve bottoms at step 10 on most seeds and at step 30 on ' +
    'some; weight decay 3 still overfitted on 1 seed of 5, weight decay 10 on 1 of 4, and a rank-2 adapter on 3 of ' +
    '4. Try them with the controls and see.)',
  watch: 'Watch the validation loss: it falls, reaches a minimum, then rises while the training loss keeps falling.',
  base: {
    model: { name: 'tiny-world' },
    data: { dataset: 'qa', maxRecords: 24 },
    lora: { rank: 16, alpha: 32, targets: [...LORA_TARGETS] },
    train: { lr: 3e-3, batchSize: 8, maxSteps: 120 },
    eval: { everySteps: 10, maxBatches: 0, general: false },
  },
  pitfall: { id: 'pitfall', label: 'Pitfall: 120 steps on 24 records', override: {} },
  fixes: [
    {
      id: 'early-stopping',
      label: 'Fix: early stopping (patience 3, best weights restored)',
      override: { train: { earlyStopping: { enabled: true, patience: 3, restoreBest: true } } },
    },
    { id: 'more-data', label: 'Fix: every training record, not 24', override: { data: { maxRecords: 0 } } },
  ],
  controls: [
    'data.maxRecords',
    'train.maxSteps',
    'train.lr',
    'lora.rank',
    'lora.dropout',
    'train.weightDecay',
    'train.earlyStopping.enabled',
  ],
  diagnose(h) {
    const best = bestEval(h);
    const final = finalValLoss(h);
    if (!best)
      return {
        text: 'The run ended before its first evaluation, so there is no validation curve to read.',
        showsPitfall: false,
        metrics: {},
      };
    const rise = (final - best.valLoss) / best.valLoss;
    const trainLoss = trainLossTail(h, 6);
    const metrics = { bestStep: best.step, bestValLoss: best.valLoss, finalValLoss: final, rise, trainLoss };
    // overfitting is both at once: validation climbs off its best, and training loss has gone below that best
    const rose = rise > 0.1;
    const memorising = trainLoss < best.valLoss;
    const showsPitfall = rose && memorising;
    const text = showsPitfall
      ? `Validation loss bottomed at step ${best.step} (${num(best.valLoss)}) and ended ${signedPct(rise)} higher (${num(final)}) while training loss ${moved(h.steps[0]?.loss ?? NaN, trainLoss)} to ${num(trainLoss)}: overfitting.`
      : rose
        ? `Validation loss ended ${signedPct(rise)} above its best (${num(final)} against ${num(best.valLoss)} at step ${best.step}), but training loss (${num(trainLoss)}) did not go below that best: the model is not memorising its training records.`
        : `Validation loss ended at ${num(final)}, ${rise < 0.005 ? 'at' : `within ${signedPct(rise)} of`} its best (${num(best.valLoss)} at step ${best.step}), with training loss at ${num(trainLoss)}: no overfitting to speak of.`;
    return { text, showsPitfall, metrics };
  },
};
