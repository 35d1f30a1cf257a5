// Lesson 10: a training set with five good remarks for every bad one. The model learns that "good" is the safe
// answer: recall on the rare class collapses while overall accuracy still looks acceptable. Per-class recall
// (and the same numbers per group) show it; undersampling the common class, or more rare data, fixes it.

import { answer, currentRun, isRight, LABEL_ANSWER, num, pct, rate, type Answer } from './measure';
import { exactMatch } from '../rules';
import type { Lesson } from './types';
import { LORA_TARGETS } from '../config';

const RARE = 'bad';
const COMMON = 'good';
const GROUPS = ['Northvale', 'Southmere'];

export const imbalance: Lesson = {
  id: 'imbalance',
  number: 10,
  title: 'Class imbalance and bias',
  summary: 'Five good remarks for every bad one: the model learns that "good" is the safe answer.',
  explanation:
    'A model learns whatever pays off on its training data. If five records in six say "good", answering "good" ' +
    'when unsure is right most of the time, so the model leans that way and misses many of the rare bad remarks. ' +
    'Overall accuracy hides it, because the rare class is a small share of any test set drawn like the training ' +
    'data. Look at accuracy per class (recall: of the truly bad remarks, how many were called bad) and per group ' +
    '(here the town each speaker comes from; the demographic parity gap is how much more often one town is called ' +
    'good). The same mechanism turns a group that is rare or one-sided in the data into a group the model treats ' +
    'differently. Rebalancing fixes the incentive: drop some of the common records (undersampling, which also ' +
    'throws information away), or better, collect more of the rare class. Repeating the few rare records ' +
    '(oversampling, the other choice under data.rebalance) shows the model the same few bad remarks again and ' +
    'again; on this data that did not teach it to recognise new ones.',
  watch: 'Overall accuracy looks acceptable; the diagnosis splits it by class and by town.',
  base: {
    model: { name: 'small-world' },
    data: {
      dataset: 'sentiment',
      split: { train: 0.6, val: 0.2, test: 0.2 },
      skew: { label: RARE, group: '', keep: 0.2 },
    },
    lora: { rank: 8, alpha: 16, targets: [...LORA_TARGETS] },
    train: { lr: 3e-3, batchSize: 8, maxSteps: 100 },
    eval: { everySteps: 25, maxBatches: 0, general: false },
  },
  pitfall: { id: 'pitfall', label: `Pitfall: 20% of the ${RARE} remarks kept`, override: {} },
  fixes: [
    { id: 'undersample', label: 'Fix: undersample the common class', override: { data: { rebalance: 'undersample' } } },
    {
      id: 'more-rare',
      label: `Fix: collect more ${RARE} remarks (every one, not 20%)`,
      override: { data: { skew: { keep: 1 } } },
    },
  ],
  controls: ['data.skew.keep', 'data.rebalance'],
  async measure(session) {
    const run = currentRun(session);
    // validation and test were never skewed: half good, half bad, half from each town
    const answers = await answer(session, [...run.data.records.val, ...run.data.records.test], LABEL_ANSWER);
    const saysCommon = (a: Answer) => exactMatch(a.text, COMMON);
    const of = (pick: (a: Answer) => boolean) => answers.filter(pick);
    const train = run.data.records.train;
    return {
      accuracy: rate(answers, isRight),
      recallRare: rate(
        of((a) => a.record.completion === RARE),
        isRight,
      ),
      recallCommon: rate(
        of((a) => a.record.completion === COMMON),
        isRight,
      ),
      parityGap: Math.abs(
        rate(
          of((a) => a.record.group === GROUPS[0]),
          saysCommon,
        ) -
          rate(
            of((a) => a.record.group === GROUPS[1]),
            saysCommon,
          ),
      ),
      trainRare: train.filter((r) => r.label === RARE).length,
      trainCommon: train.filter((r) => r.label === COMMON).length,
    };
  },
  diagnose(_h, m) {
    const gap = m.recallCommon - m.recallRare;
    const metrics = {
      accuracy: m.accuracy,
      recallRare: m.recallRare,
      recallCommon: m.recallCommon,
      recallGap: gap,
      parityGap: m.parityGap,
    };
    const showsPitfall = gap > 0.3;
    const text =
      `Trained on ${m.trainCommon} ${COMMON} and ${m.trainRare} ${RARE} remarks, the model is ${pct(m.accuracy)} accurate on balanced held-out data but recognises ${pct(m.recallRare)} of the ${RARE} remarks against ${pct(m.recallCommon)} of the ${COMMON} ones ` +
      `(towns differ by ${num(m.parityGap * 100, 0)} points in how often they are called ${COMMON})` +
      (showsPitfall
        ? ': it favours the common class.'
        : gap < -0.2
          ? `: rebalanced this hard, it now leans towards ${RARE}.`
          : '.');
    return { text, showsPitfall, metrics };
  },
};
