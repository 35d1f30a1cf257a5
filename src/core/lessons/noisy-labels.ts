// Lesson 6: a share of the training labels flipped. Accuracy and validation loss suffer, and the per-example loss
// table lists the flipped records first: the model's own disagreement with a label is a good hint it is wrong.

import { currentRun, lossOn, num, pct } from './measure';
import type { Lesson } from './types';

export const noisyLabels: Lesson = {
  id: 'noisy-labels',
  number: 6,
  title: 'Noisy labels',
  summary: 'Flip a share of the labels: accuracy drops, and the loss table points at the culprits.',
  explanation:
    'Real datasets contain mistakes: a good remark labelled bad, a typo in an answer. Every wrong label trains the ' +
    'model towards the wrong answer, and it has no way to know which labels to trust, so accuracy and confidence ' +
    'both fall as the noise grows. The same training run also helps find the mistakes: once the model has learned ' +
    'the general rule, it disagrees with the flipped records, so they have the highest loss. Sorting the training ' +
    'records by loss and checking the top of the list finds most of them; cleaning them is the fix.',
  watch: 'Move the label-noise slider and compare validation accuracy; then open the per-example loss table.',
  base: {
    data: { dataset: 'sentiment' },
    train: { lr: 3e-3, batchSize: 8, maxSteps: 60 },
    eval: { everySteps: 10, maxBatches: 0, general: false, accuracy: true },
  },
  pitfall: { id: 'pitfall', label: 'Pitfall: 30% of labels flipped', override: { data: { labelNoise: 0.3 } } },
  fixes: [
    { id: 'clean-labels', label: 'Fix: clean labels', override: { data: { labelNoise: 0 } } },
    { id: 'less-noise', label: 'Fix: fewer mistakes (10%)', override: { data: { labelNoise: 0.1 } } },
  ],
  controls: ['data.labelNoise', 'train.maxSteps'],
  async measure(session, h) {
    const run = currentRun(session);
    const table = await session.lossTable();
    const noisy = table.filter((r) => r.flags?.noisy).length;
    // of the k highest-loss records (k = how many were flipped), how many are flipped ones
    const found = noisy > 0 ? table.slice(0, noisy).filter((r) => r.flags?.noisy).length / noisy : NaN;
    return {
      valAccuracy: h.evals.at(-1)?.valAccuracy ?? NaN,
      valLoss: await lossOn(session, run.data.val),
      noisyRecords: noisy,
      trainRecords: table.length,
      noisyInTopLoss: found,
    };
  },
  diagnose(h, m) {
    const noise = h.config.data.labelNoise;
    const metrics = { labelNoise: noise, valAccuracy: m.valAccuracy, valLoss: m.valLoss, noisyInTopLoss: m.noisyInTopLoss };
    const showsPitfall = noise >= 0.2 && m.valAccuracy < 0.95;
    const text =
      m.noisyRecords > 0
        ? `With ${m.noisyRecords} of ${m.trainRecords} training labels flipped (${pct(noise)}), validation accuracy is ${pct(m.valAccuracy)} and validation loss ${num(m.valLoss)}; ` +
          `${pct(m.noisyInTopLoss)} of the ${m.noisyRecords} highest-loss training records are flipped ones, so the loss table finds them.`
        : `With clean labels validation accuracy is ${pct(m.valAccuracy)} and validation loss ${num(m.valLoss)}.`;
    return { text, showsPitfall, metrics };
  },
};
