// Lesson 10: a training set where Southmere's bad remarks are rare. The model learns that Southmere speakers say
// good things, and calls their bad remarks good: per-group recall and the demographic parity gap show it.

import { answer, currentRun, num, pct, rate, sameAnswer, type Answer } from './measure';
import type { Lesson } from './types';

const GROUP = 'Southmere';
const OTHER = 'Northvale';

export const imbalance: Lesson = {
  id: 'imbalance',
  number: 10,
  title: 'Class imbalance and group bias',
  summary: 'Few bad remarks from one town teach the model to think well of that town.',
  explanation:
    'A model learns whatever predicts the label in its training data, including things it should not use. Here ' +
    'nearly every remark from Southmere in the training set is good, because most of its bad remarks were left ' +
    'out. The town name becomes a shortcut to "good": Southmere’s bad remarks get called good far more often ' +
    'than Northvale’s. Overall accuracy hides it, because Southmere’s bad remarks are a small share of the test ' +
    'set. Look at accuracy and recall per class and per group, and at the demographic parity gap (how much more ' +
    'often one group gets the positive label). Rebalancing the training data, by repeating the rare records ' +
    '(oversampling) or by dropping some of the common ones (undersampling), removes the shortcut.',
  watch: 'Overall accuracy looks fine; the diagnosis splits it by town and by label.',
  base: {
    data: { dataset: 'sentiment', split: { train: 0.6, val: 0.2, test: 0.2 }, skew: { label: 'bad', group: GROUP, keep: 0.1 } },
    train: { lr: 3e-3, batchSize: 8, maxSteps: 60 },
    eval: { everySteps: 20, maxBatches: 0, general: false },
  },
  pitfall: { id: 'pitfall', label: `Pitfall: 10% of ${GROUP}'s bad remarks kept`, override: {} },
  fixes: [
    { id: 'oversample', label: 'Fix: oversample the rare records', override: { data: { rebalance: 'oversample' } } },
    { id: 'undersample', label: 'Fix: undersample the common records', override: { data: { rebalance: 'undersample' } } },
  ],
  controls: ['data.skew.keep', 'data.rebalance'],
  async measure(session) {
    const run = currentRun(session);
    const answers = await answer(session, [...run.data.records.val, ...run.data.records.test], { maxNewTokens: 8, stop: ['\n'] });
    const right = (a: Answer) => sameAnswer(a.text, a.record.completion ?? '');
    const cell = (group: string, label?: string) => answers.filter((a) => a.record.group === group && (label === undefined || a.record.completion === label));
    const saysGood = (a: Answer) => sameAnswer(a.text, 'good');
    return {
      accuracy: rate(answers, right),
      groupRecallBad: rate(cell(GROUP, 'bad'), right),
      otherRecallBad: rate(cell(OTHER, 'bad'), right),
      groupRecallGood: rate(cell(GROUP, 'good'), right),
      otherRecallGood: rate(cell(OTHER, 'good'), right),
      parityGap: rate(cell(GROUP), saysGood) - rate(cell(OTHER), saysGood),
      trainGroupBad: run.data.records.train.filter((r) => r.group === GROUP && r.label === 'bad').length,
      trainRecords: run.data.records.train.length,
    };
  },
  diagnose(_h, m) {
    const metrics = { accuracy: m.accuracy, groupRecallBad: m.groupRecallBad, otherRecallBad: m.otherRecallBad, parityGap: m.parityGap };
    const showsPitfall = m.otherRecallBad - m.groupRecallBad > 0.15 && m.parityGap > 0.1;
    const text =
      `Trained on ${m.trainRecords} records with ${m.trainGroupBad} bad remarks from ${GROUP}, the model is ${pct(m.accuracy)} accurate overall but recognises ${pct(m.groupRecallBad)} of ${GROUP}'s bad remarks against ${pct(m.otherRecallBad)} of ${OTHER}'s, ` +
      `and calls ${GROUP} good ${num(Math.abs(m.parityGap) * 100, 0)} points ${m.parityGap >= 0 ? 'more' : 'less'} often (demographic parity gap)` +
      (showsPitfall ? `: a bias learned from skewed data.` : '.');
    return { text, showsPitfall, metrics };
  },
};
