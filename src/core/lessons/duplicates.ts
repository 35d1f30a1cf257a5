// Lesson 15: a scraped file holds some records several times. Split at random, copies of one record land in
// training and in validation, so validation loss partly measures memorised records and looks better than the
// truth. Every record the run never saw shows the gap; removing exact duplicates before the split closes it.

import { duplicateKey } from '../data/inject';
import { currentRun, finalValLoss, num, pct, unseenLoss } from './measure';
import type { Lesson } from './types';
import { LORA_TARGETS } from '../config';

const BUDGET = 160; // distinct records the run may use: 71 validate, 89 train (a large validation split, so its own sampling error stays small)
const REPEATED = { share: 0.1, copies: 12 }; // 16 of them appear twelve times in the file

/** The record a copy was made from ("qa-17~3" -> "qa-17"). */
const sourceId = (id: string) => id.replace(/~\d+$/, '');

export const duplicates: Lesson = {
  id: 'duplicates',
  number: 15,
  title: 'Duplicates leak into validation',
  summary: 'Copies of a record on both sides of the split make validation loss look better than it is.',
  explanation:
    'Data collected from the web, from logs or from several sources often holds the same record more than once. ' +
    'When such a file is split at random into training and validation, copies of one record end up on both sides. ' +
    'The model is trained on a record and then "validated" on its copy, so part of the validation loss measures ' +
    'memory, not generalisation, and the curve looks better than the model is. The copies also weigh those records ' +
    'several times in training. Removing exact duplicates before splitting (and near duplicates, in real data) ' +
    'keeps every validation record new to the model.',
  watch:
    'Validation loss follows training loss down more closely than it should. The diagnosis compares it with loss on records the run never saw.',
  base: {
    model: { name: 'tiny-world' },
    data: { dataset: 'qa', recordBudget: BUDGET, split: { train: 0.5, val: 0.4, test: 0.1 }, duplicate: REPEATED },
    lora: { rank: 16, alpha: 32, targets: [...LORA_TARGETS] },
    train: { lr: 5e-3, batchSize: 8, maxSteps: 160 },
    eval: { everySteps: 20, maxBatches: 0, general: false },
  },
  pitfall: {
    id: 'pitfall',
    label: `Pitfall: ${Math.round(REPEATED.share * BUDGET)} of the ${BUDGET} records appear ${REPEATED.copies} times`,
    override: {},
  },
  fixes: [
    { id: 'dedupe', label: 'Fix: remove exact duplicates before the split', override: { data: { dedupe: true } } },
  ],
  controls: ['data.duplicate.share', 'data.duplicate.copies', 'data.dedupe', 'train.maxSteps'],
  async measure(session, h) {
    const run = currentRun(session);
    const { train, val } = run.data.records;
    const inTraining = new Set(train.map(duplicateKey));
    // the truth: every record of the dataset whose source this run neither trained nor validated on
    const truth = await unseenLoss(session, h, new Set([...train, ...val].map((r) => sourceId(r.id))));
    return {
      valLoss: finalValLoss(h),
      heldOutLoss: truth.loss,
      heldOutRecords: truth.records,
      valRecords: val.length,
      leakedVal: val.filter((r) => inTraining.has(duplicateKey(r))).length,
      trainRecords: train.length,
      distinctTrain: inTraining.size,
    };
  },
  diagnose(_h, m) {
    const error = Math.abs(m.heldOutLoss - m.valLoss) / m.heldOutLoss;
    const flatters = m.valLoss < m.heldOutLoss;
    // the yardstick of lesson 3: an estimate within a fifth of the truth is honest
    const showsPitfall = flatters && error > 0.2;
    const metrics = {
      valLoss: m.valLoss,
      heldOutLoss: m.heldOutLoss,
      estimateError: error,
      leakedVal: m.leakedVal,
      valRecords: m.valRecords,
      distinctTrain: m.distinctTrain,
      trainRecords: m.trainRecords,
    };
    const leak = `${m.leakedVal} of ${m.valRecords} validation records have a copy among the ${m.trainRecords} training records (${m.distinctTrain} distinct)`;
    const text =
      `${leak}; validation loss said ${num(m.valLoss)}, and on ${m.heldOutRecords} questions the run never saw the loss is ${num(m.heldOutLoss)}` +
      (showsPitfall
        ? `: validation looked ${pct(error)} better than the truth.`
        : error <= 0.2
          ? ` (${pct(error)} apart): validation told the truth.`
          : ` (${pct(error)} apart).`);
    return { text, showsPitfall, metrics };
  },
};
