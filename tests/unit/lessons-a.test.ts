// Lessons 1-5 trained for real: the pitfall appears and the fix helps, on the numbers each diagnosis quotes.

import { describe, expect, it } from 'vitest';
import { lessonById } from '../../src/core/lessons/index';
import { lessonConfig } from '../../src/core/rules';
import type { RunHistory } from '../../src/core/train/types';
import { everyOtherFix, pitfallAndFix } from '../helpers/lessons';

describe('lessons 1-5, trained on the shipped model', () => {
  it('1 overfitting: validation loss turns up on 24 records; early stopping keeps the best', async () => {
    const { pitfall, fix } = await pitfallAndFix('overfitting', 'early-stopping');
    expect(pitfall.showsPitfall).toBe(true);
    expect(pitfall.metrics.rise).toBeGreaterThan(0.15);
    expect(pitfall.metrics.trainLoss).toBeLessThan(pitfall.metrics.bestValLoss);
    expect(fix.showsPitfall).toBe(false);
    expect(fix.metrics.finalValLoss).toBeLessThan(pitfall.metrics.finalValLoss * 0.85);
  });

  it('2 underfitting: a tiny rate barely moves the loss; warmup + cosine with more steps learns', async () => {
    const { pitfall, fix } = await pitfallAndFix('underfitting', 'warmup-cosine');
    expect(pitfall.showsPitfall).toBe(true);
    expect(pitfall.metrics.gain).toBeLessThan(0.1);
    expect(fix.showsPitfall).toBe(false);
    expect(fix.metrics.gain).toBeGreaterThan(pitfall.metrics.gain + 0.3);
  });

  it('3 no validation split: training loss flatters the model; a validation split out of the same 96 records estimates held-out loss', async () => {
    const { pitfall, fix } = await pitfallAndFix('no-validation', 'validation-split');
    expect(pitfall.metrics.trainRecords).toBe(96);
    expect(fix.metrics.trainRecords + fix.metrics.valRecords).toBe(96); // validation is paid for with training records
    expect(pitfall.showsPitfall).toBe(true);
    expect(pitfall.metrics.estimateError).toBeGreaterThan(0.2);
    expect(fix.metrics.estimateError).toBeLessThan(0.2); // what the diagnosis calls telling the truth
  });

  it('4 learning rate too high: validation loss keeps bouncing late in the run; a lower rate settles lower', async () => {
    const { pitfall, fix } = await pitfallAndFix('learning-rate', 'lower-lr');
    expect(pitfall.showsPitfall).toBe(true);
    // bouncing: in the second half the rises add up to over a tenth of the run's whole gain (or the run blew up)
    if (!pitfall.metrics.diverged) expect(pitfall.metrics.lateRise).toBeGreaterThan(0.1);
    expect(fix.metrics.lateRise).toBeLessThan(pitfall.metrics.lateRise / 3);
    expect(fix.showsPitfall).toBe(false);
    expect(fix.metrics.valLoss).toBeLessThan(pitfall.metrics.valLoss);
  });

  it('5 batch size: single-example updates make validation loss wander; accumulation at equal compute keeps it going down', async () => {
    const { pitfall, fix } = await pitfallAndFix('batch-size', 'accumulate');
    expect(pitfall.showsPitfall).toBe(true); // gave back more than a quarter of its gains on validation
    expect(fix.showsPitfall).toBe(false);
    expect(fix.metrics.giveBack).toBeLessThan(pitfall.metrics.giveBack);
    expect(fix.metrics.valLoss).toBeLessThan(pitfall.metrics.valLoss);
  });
});

everyOtherFix('lessons 1-5, every other fix', {
  overfitting: ['early-stopping'],
  underfitting: ['warmup-cosine'],
  'no-validation': ['validation-split'],
  'learning-rate': ['lower-lr'],
  'batch-size': ['accumulate'],
});

describe('lesson 4 reads bounce by its size', () => {
  const lesson = lessonById('learning-rate');
  const history = (val: number[]) =>
    ({
      config: lessonConfig(lesson, 'pitfall'),
      steps: [],
      evals: val.map((valLoss, i) => ({ type: 'eval', step: 4 * (i + 1), valLoss, valPerplexity: Math.exp(valLoss) })),
      end: { type: 'end', reason: 'completed', message: '', step: 4 * val.length },
    }) as unknown as RunHistory;
  const settleTo = (n: number, floor: number) => Array.from({ length: n }, (_, i) => floor + 3 * 0.8 ** i);

  it('a settled curve whose flat end ticks up by thousandths is settled, however often it ticks', () => {
    // down to the floor by the middle, then flat, up by 0.002 at every other evaluation
    const v = [...settleTo(15, 1.2), ...Array.from({ length: 15 }, (_, i) => 1.2 + (i % 2 ? 0.002 : 0))];
    const d = lesson.diagnose(history(v), { valLoss: v.at(-1)!, baseValLoss: 5.5 });
    expect(d.metrics.lateSetbacks).toBeGreaterThanOrEqual(5); // what the old count called bouncing
    expect(d.showsPitfall).toBe(false);
  });

  it('a curve bouncing on a plateau shows the pitfall, and the diagnosis quotes the climb', () => {
    const v = [...settleTo(15, 2.2), ...Array.from({ length: 15 }, (_, i) => 2.2 + (i % 2 ? 0.15 : 0))];
    const d = lesson.diagnose(history(v), { valLoss: v.at(-1)!, baseValLoss: 5.5 });
    expect(d.metrics.lateRise).toBeCloseTo((7 * 0.15) / (5.5 - 2.2), 2);
    expect(d.showsPitfall).toBe(true);
    expect(d.text).toMatch(/climbing back by 32% of all it had fallen from the base model's 5\.50/);
  });
});
