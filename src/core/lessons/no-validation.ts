// Lesson 3: with no validation split, the training loss is the only number, and on 96 records it goes to almost
// zero. Every record the run never saw shows how far that is from the truth; a validation split paid for out of the
// same 96 records, or k-fold cross-validation over them, gives an honest estimate.

import { currentRun, finalValLoss, num, pct, trainLossTail, unseenLoss } from './measure';
import type { Lesson } from './types';
import { LORA_TARGETS } from '../config';

const FOLDS = 3;
// Records the run may use, for training and validation together. With 64 (21 validating) the split and the
// folds were each more than a fifth off on one seed of five; with 96 both hold on every seed measured.
const BUDGET = 96;
const VAL_SHARE = { train: 0.6, val: 0.3, test: 0.1 }; // a third of the budget validates: 32 of 96, 64 train
const VAL_RECORDS = Math.round((BUDGET * VAL_SHARE.val) / (VAL_SHARE.train + VAL_SHARE.val));

export const noValidation: Lesson = {
  id: 'no-validation',
  number: 3,
  title: 'No validation split',
  summary: 'Training loss alone looks perfect; only held-out data tells the truth.',
  explanation:
    'Training loss measures how well the model fits the very records it is trained on, so it keeps falling ' +
    'whether or not the model is learning anything useful. Without a validation split there is no other curve, ' +
    'and a run that memorised 96 records looks like a triumph. Held-out data, never trained on, is the only honest ' +
    'judge, and it has a price: every record held out for validation is one fewer to train on. When the dataset is ' +
    'too small to spare a validation split, k-fold cross-validation trains k times, ' +
    'each time holding out a different slice, and averages: every record is used for validation once, and the ' +
    'spread across folds shows how uncertain the estimate is.',
  watch: 'The pitfall has only a training curve, heading for zero. Compare it with the held-out loss in the diagnosis.',
  base: {
    model: { name: 'tiny-world' },
    data: { dataset: 'qa', recordBudget: BUDGET },
    lora: { rank: 16, alpha: 32, targets: [...LORA_TARGETS] },
    train: { lr: 5e-3, batchSize: 8, maxSteps: 120 },
    eval: { everySteps: 10, maxBatches: 0, general: false },
  },
  pitfall: {
    id: 'pitfall',
    label: 'Pitfall: no validation split',
    override: { data: { split: { train: 0.9, val: 0, test: 0.1 } } },
  },
  fixes: [
    {
      id: 'validation-split',
      label: `Fix: hold out ${VAL_RECORDS} of the ${BUDGET} records for validation`,
      override: { data: { split: VAL_SHARE } },
    },
    {
      id: 'k-fold',
      label: `Fix: ${FOLDS}-fold cross-validation`,
      override: { data: { split: { train: 0.9, val: 0, test: 0.1 }, folds: FOLDS } },
      trials: {
        kind: 'folds',
        runs: Array.from({ length: FOLDS }, (_, i) => ({
          label: `fold ${i + 1} of ${FOLDS}`,
          override: { data: { fold: i } },
        })),
      },
    },
  ],
  controls: ['data.split.val', 'data.recordBudget', 'data.folds', 'train.maxSteps'],
  async measure(session, h) {
    const run = currentRun(session);
    const val = finalValLoss(h);
    // what the run itself would report: its validation loss when it has one, else its training loss
    const reported = Number.isFinite(val) ? val : trainLossTail(h, 8);
    // the truth: every record of the dataset this run neither trained nor validated on
    const truth = await unseenLoss(
      session,
      h,
      new Set([...run.data.records.train, ...run.data.records.val].map((r) => r.id)),
    );
    return {
      reportedLoss: reported,
      heldOutLoss: truth.loss,
      heldOutRecords: truth.records,
      trainRecords: run.data.records.train.length,
      valRecords: run.data.records.val.length,
    };
  },
  diagnose(h, m) {
    const error = Math.abs(m.heldOutLoss - m.reportedLoss) / m.heldOutLoss;
    const metrics: Record<string, number> = {
      reportedLoss: m.reportedLoss,
      heldOutLoss: m.heldOutLoss,
      estimateError: error,
      trainRecords: m.trainRecords,
      valRecords: m.valRecords,
    };
    // one yardstick both ways: an estimate within a fifth of the truth is honest, one further off is the pitfall
    const close = error <= 0.2;
    const showsPitfall = !close;
    const flatters = m.reportedLoss < m.heldOutLoss;
    const truth = `on ${m.heldOutRecords} questions the run never saw the loss is ${num(m.heldOutLoss)}`;
    let text: string;
    if (m.trialCount) {
      Object.assign(metrics, {
        foldMean: m.trialValLossMean,
        foldStd: m.trialValLossStd,
        foldMin: m.trialValLossMin,
        foldMax: m.trialValLossMax,
      });
      const spreadWide = m.trialValLossMax - m.trialValLossMin > Math.abs(m.trialValLossMean - m.heldOutLoss);
      text =
        `Across ${m.trialCount} folds of the ${m.trainRecords + m.valRecords} records validation loss was ${num(m.trialValLossMean)} ± ${num(m.trialValLossStd)} (from ${num(m.trialValLossMin)} to ${num(m.trialValLossMax)}), ` +
        `and ${truth}: the average is ${pct(error)} off` +
        (spreadWide
          ? ', closer than the folds are to one another, so any one small validation split could have been further off.'
          : '.');
    } else if (!valReported(h)) {
      text =
        `With no validation split the only number is training loss on all ${m.trainRecords} records, ${num(m.reportedLoss)}, but ${truth}` +
        (flatters ? `: the run looked ${pct(error)} better than it is.` : ` (${pct(error)} apart).`);
    } else {
      text =
        `Validation loss on ${m.valRecords} held-out records (leaving ${m.trainRecords} to train on) said ${num(m.reportedLoss)}, and ${truth} (${pct(error)} apart)` +
        (close
          ? ': the validation split told the truth.'
          : `: ${m.valRecords} records are too few for a close estimate.`);
    }
    return { text, showsPitfall, metrics };
  },
};

const valReported = (h: Parameters<typeof finalValLoss>[0]) => Number.isFinite(finalValLoss(h));
