// Lesson 16: a real group skew. In reviews-skewed, Redcliff's visitors are 80% good and Ashford's 80% bad, though
// only the adjectives decide the label. A model can score 80% by reading the town, and overall accuracy cannot
// tell that apart from reading the remark; accuracy on the minority cells (Redcliff bad, Ashford good) can.
// Balancing the group × label cells in training takes away the shortcut's payoff.

import { answer, currentRun, isRight, LABEL_ANSWER, pct, rate } from './measure';
import type { DataRecord } from '../data/types';
import type { Lesson } from './types';
import { LORA_TARGETS } from '../config';

/** Each town's usual label in the data; the other label is its minority cell. */
const USUAL: Record<string, string> = { Redcliff: 'good', Ashford: 'bad' };
const isMinority = (r: DataRecord) =>
  r.group !== undefined && USUAL[r.group] !== undefined && USUAL[r.group] !== r.label;

export const shortcut: Lesson = {
  id: 'shortcut',
  number: 16,
  title: 'A shortcut through a group',
  summary: 'Most visitors from one town are happy: the model learns the town instead of the words.',
  explanation:
    'In this data the label depends only on what a remark says, but the speaker’s town predicts it too: four in ' +
    'five Redcliff remarks are good and four in five Ashford remarks are bad. A model can get most answers right by ' +
    'reading the town, and it will lean on that shortcut as far as it pays. Overall accuracy cannot tell the two ' +
    'strategies apart, because the held-out data has the same skew. Split it by group and label instead: on the ' +
    'minority cells (a bad remark from Redcliff, a good one from Ashford) the shortcut gives the wrong answer, so ' +
    'accuracy there shows how much the model relies on it. Balancing the four town × label cells in training, by ' +
    'repeating the minority records, removes the payoff. (Dropping majority records instead balances the cells ' +
    'too, but leaves a third of the data: here it closed the gap on 3 seeds of 4 and learned the remarks less ' +
    'well, so it is not offered as a fix; data.rebalance tries it.) The same check, accuracy per ' +
    'group, is how a model that treats a group of people differently is caught.',
  watch: 'Overall accuracy looks fine; the diagnosis splits it into the usual and the unusual town × label cells.',
  base: {
    // small-world: tiny-world could not hold lesson 10's per-class effects across seeds (docs/LESSONS.md)
    model: { name: 'small-world' },
    data: { dataset: 'reviews-skewed', split: { train: 0.6, val: 0.2, test: 0.2 } },
    lora: { rank: 8, alpha: 16, targets: [...LORA_TARGETS] },
    train: { lr: 3e-3, batchSize: 8, maxSteps: 100 },
    eval: { everySteps: 25, maxBatches: 0, general: false },
  },
  pitfall: { id: 'pitfall', label: 'Pitfall: train on the skewed data as it is', override: {} },
  fixes: [
    {
      id: 'oversample',
      label: 'Fix: oversample the minority town × label cells',
      override: { data: { rebalance: 'oversample' } },
    },
  ],
  controls: ['data.rebalance'],
  async measure(session) {
    const run = currentRun(session);
    // validation and test keep the data's skew: most of their records sit in the usual cells
    const answers = await answer(session, [...run.data.records.val, ...run.data.records.test], LABEL_ANSWER);
    const train = run.data.records.train;
    return {
      accuracy: rate(answers, isRight),
      minorityAccuracy: rate(
        answers.filter((a) => isMinority(a.record)),
        isRight,
      ),
      usualAccuracy: rate(
        answers.filter((a) => !isMinority(a.record)),
        isRight,
      ),
      minorityCount: answers.filter((a) => isMinority(a.record)).length,
      heldOut: answers.length,
      trainMinority: train.filter(isMinority).length,
      trainRecords: train.length,
    };
  },
  diagnose(_h, m) {
    const gap = m.usualAccuracy - m.minorityAccuracy;
    const metrics = {
      accuracy: m.accuracy,
      usualAccuracy: m.usualAccuracy,
      minorityAccuracy: m.minorityAccuracy,
      gap,
      trainMinorityShare: m.trainMinority / m.trainRecords,
    };
    // the shortcut is wrong on every minority record and right on every usual one: a wide gap is the model using it
    const showsPitfall = gap > 0.2;
    const text =
      `Trained on ${m.trainRecords} records, ${pct(m.trainMinority / m.trainRecords)} of them in a town's minority cell, the model is ${pct(m.accuracy)} accurate on ${m.heldOut} held-out remarks: ` +
      `${pct(m.usualAccuracy)} where the town's usual label is right, ${pct(m.minorityAccuracy)} on the ${m.minorityCount} where it is not` +
      (showsPitfall
        ? ': it answers by the town, not by the remark.'
        : gap < -0.2
          ? ': balanced this hard, it now leans against the town.'
          : '.');
    return { text, showsPitfall, metrics };
  },
};
