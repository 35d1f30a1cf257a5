// Lesson 3: with no validation split, the training loss is the only number, and on 40 records it goes to almost
// zero. A held-out test set shows how far that is from the truth; a validation split, or k-fold cross-validation
// when the dataset is too small to spare one, gives an honest estimate.

import { formatRecord } from '../data/format';
import { loadDataset } from '../data/prepare';
import { currentRun, finalValLoss, lossOn, num, pct, trainLossTail } from './measure';
import type { Lesson } from './types';

const FOLDS = 3;

export const noValidation: Lesson = {
  id: 'no-validation',
  number: 3,
  title: 'No validation split',
  summary: 'Training loss alone looks perfect; only held-out data tells the truth.',
  explanation:
    'Training loss measures how well the model fits the very records it is trained on, so it keeps falling ' +
    'whether or not the model is learning anything useful. Without a validation split there is no other curve, ' +
    'and a run that memorised 40 records looks like a triumph. Held-out data, never trained on, is the only honest ' +
    'judge. When the dataset is too small to spare a validation split, k-fold cross-validation trains k times, ' +
    'each time holding out a different slice, and averages: every record is used for validation once, and the ' +
    'spread across folds shows how uncertain the estimate is.',
  watch: 'The pitfall has only a training curve, heading for zero. Compare it with the held-out loss in the diagnosis.',
  base: {
    data: { dataset: 'qa', maxRecords: 48 },
    lora: { rank: 16, alpha: 32, targets: ['q', 'k', 'v', 'o', 'up', 'down'] },
    train: { lr: 5e-3, batchSize: 8, maxSteps: 60 },
    eval: { everySteps: 10, maxBatches: 0, general: false },
  },
  pitfall: { id: 'pitfall', label: 'Pitfall: no validation split', override: { data: { split: { train: 0.9, val: 0, test: 0.1 } } } },
  fixes: [
    {
      id: 'validation-split',
      label: 'Fix: hold out a validation split (and stop early)',
      override: { data: { split: { train: 0.8, val: 0.1, test: 0.1 } }, train: { earlyStopping: { enabled: true, patience: 2, restoreBest: true } } },
    },
    {
      id: 'k-fold',
      label: `Fix: ${FOLDS}-fold cross-validation`,
      override: { data: { split: { train: 0.9, val: 0, test: 0.1 }, folds: FOLDS } },
      trials: { kind: 'folds', runs: Array.from({ length: FOLDS }, (_, i) => ({ label: `fold ${i + 1} of ${FOLDS}`, override: { data: { fold: i } } })) },
    },
  ],
  controls: ['data.split.val', 'data.folds', 'train.earlyStopping.enabled', 'train.maxSteps'],
  async measure(session, h) {
    const run = currentRun(session);
    const val = finalValLoss(h);
    // what the run itself would report: its validation loss when it has one, else its training loss
    const reported = Number.isFinite(val) ? val : trainLossTail(h, 8);
    // the truth: every record of the dataset this run neither trained nor validated on (a few hundred, so the
    // figure itself is not at the mercy of a small sample)
    const used = new Set([...run.data.records.train, ...run.data.records.val].map((r) => r.id));
    const unseen = (await loadDataset(session.opts.loader, h.config.data.dataset)).filter((r) => !used.has(r.id));
    const fmt = { separator: h.config.data.separator, appendEos: h.config.data.appendEos, lossOnPromptTokens: false, blockSize: run.view.arch.blockSize };
    return { reportedLoss: reported, heldOutLoss: await lossOn(session, unseen.map((r) => formatRecord(r, session.tokenizer, fmt))), heldOutRecords: unseen.length };
  },
  diagnose(h, m) {
    const error = Math.abs(m.heldOutLoss - m.reportedLoss) / m.heldOutLoss;
    const metrics: Record<string, number> = { reportedLoss: m.reportedLoss, heldOutLoss: m.heldOutLoss, estimateError: error };
    const showsPitfall = error > 0.5;
    let text: string;
    if (m.trialCount) {
      Object.assign(metrics, { foldMean: m.trialValLossMean, foldStd: m.trialValLossStd, foldMin: m.trialValLossMin, foldMax: m.trialValLossMax });
      text =
        `Across ${m.trialCount} folds validation loss was ${num(m.trialValLossMean)} ± ${num(m.trialValLossStd)} (from ${num(m.trialValLossMin)} to ${num(m.trialValLossMax)}), ` +
        `within ${pct(error)} of the held-out loss ${num(m.heldOutLoss)}; the spread is how far one small validation split alone could have been off.`;
    } else if (!valReported(h)) {
      text = `With no validation split the only number is training loss, ${num(m.reportedLoss)}, but on ${m.heldOutRecords} held-out questions the loss is ${num(m.heldOutLoss)}: the run looked ${pct(error)} better than it is.`;
    } else {
      text = `Validation loss said ${num(m.reportedLoss)} and the held-out test loss is ${num(m.heldOutLoss)} (${pct(error)} apart): the validation split told the truth.`;
    }
    return { text, showsPitfall, metrics };
  },
};

const valReported = (h: Parameters<typeof finalValLoss>[0]) => Number.isFinite(finalValLoss(h));
