// Lessons 1-5 trained for real: the pitfall appears and the fix helps, on the numbers each diagnosis quotes.

import { describe, expect, it } from 'vitest';
import { pitfallAndFix } from '../helpers/lessons';

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

  it('4 learning rate too high: validation loss keeps bouncing; a lower rate settles lower', async () => {
    const { pitfall, fix } = await pitfallAndFix('learning-rate', 'lower-lr');
    expect(pitfall.showsPitfall).toBe(true);
    expect(pitfall.metrics.lateSetbacks + pitfall.metrics.diverged).toBeGreaterThan(fix.metrics.lateSetbacks);
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
