// Lesson 6: a share of the training labels flipped. Accuracy and validation loss suffer, and the per-example loss
// table lists the flipped records first: the model's own disagreement with a label is a good hint it is wrong.

import { answer, currentRun, isRight, LABEL_ANSWER, lossOn, num, pct, rate } from './measure';
import type { Lesson } from './types';
import { LORA_TARGETS } from '../config';

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
    model: { name: 'tiny-world' },
    data: { dataset: 'sentiment' },
    lora: { rank: 8, alpha: 16, targets: [...LORA_TARGETS] },
    train: { lr: 3e-3, batchSize: 8, maxSteps: 100 },
    eval: { everySteps: 25, maxBatches: 0, general: false, accuracy: true },
  },
  pitfall: { id: 'pitfall', label: 'Pitfall: 20% of labels flipped', override: { data: { labelNoise: 0.2 } } },
  fixes: [
    { id: 'clean-labels', label: 'Fix: clean labels', override: { data: { labelNoise: 0 } } },
    { id: 'less-noise', label: 'Fix: fewer mistakes (5%)', override: { data: { labelNoise: 0.05 } } },
  ],
  controls: ['data.labelNoise', 'train.maxSteps'],
  async measure(session) {
    const run = currentRun(session);
    const table = await session.lossTable();
    const noisy = table.filter((r) => r.flags?.noisy).length;
    // of the k highest-loss records (k = how many were flipped), how many are flipped ones
    const found = noisy > 0 ? table.slice(0, noisy).filter((r) => r.flags?.noisy).length / noisy : NaN;
    // accuracy on validation and test together: 120 remarks, so one answer moves it by less than a point
    const asked = [...run.data.records.val, ...run.data.records.test];
    const answers = await answer(session, asked, LABEL_ANSWER);
    return {
      accuracy: rate(answers, isRight),
      asked: asked.length,
      valLoss: await lossOn(session, run.data.val),
      noisyRecords: noisy,
      trainRecords: table.length,
      noisyInTopLoss: found,
    };
  },
  diagnose(h, m) {
    const noise = h.config.data.labelNoise;
    const enrichment = m.noisyInTopLoss / (m.noisyRecords / m.trainRecords);
    const metrics = {
      labelNoise: noise,
      accuracy: m.accuracy,
      valLoss: m.valLoss,
      noisyInTopLoss: m.noisyInTopLoss,
      enrichment,
    };
    const showsPitfall = m.accuracy < 0.72;
    const found =
      m.noisyRecords > 0
        ? `; the ${m.noisyRecords} highest-loss training records are ${pct(m.noisyInTopLoss)} flipped ones, ${num(enrichment, 1)}× their share of the data` +
          (enrichment > 1.5 ? ', so the loss table points at them' : ', hardly more than chance')
        : '';
    const text =
      `With ${m.noisyRecords} of ${m.trainRecords} training labels flipped (${pct(noise)}), accuracy on ${m.asked} held-out remarks is ${pct(m.accuracy)} (validation loss ${num(m.valLoss)})` +
      found +
      (showsPitfall ? ': the wrong labels drown out the rule.' : '.');
    return { text, showsPitfall, metrics };
  },
};
