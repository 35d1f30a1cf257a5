// Lessons 10-13 trained for real (14-16 in lessons-d.test.ts, so the two halves run on two workers): the pitfall
// appears and the fix helps, on the numbers each diagnosis quotes. Every other fix of lessons 10-16 is here too.
// (Compute cost asserts counts and bytes, never time: speed is measured by `npm run bench`, not by a test.)

import { describe, expect, it } from 'vitest';
import { everyOtherFix, pitfallAndFix, SMALL_WORLD_TIMEOUT, variantDiagnosis } from '../helpers/lessons';

describe('lessons 10-13, trained on the shipped models', () => {
  it(
    '10 class imbalance: the rare class is missed; undersampling, or more rare records, narrows the recall gap',
    async () => {
      const { pitfall, fix } = await pitfallAndFix('imbalance', 'undersample');
      expect(pitfall.showsPitfall).toBe(true);
      expect(pitfall.metrics.recallGap).toBeGreaterThan(0.3);
      expect(fix.showsPitfall).toBe(false);
      expect(fix.metrics.recallRare).toBeGreaterThan(pitfall.metrics.recallRare + 0.15);
      const more = await variantDiagnosis('imbalance', 'more-rare');
      expect(more.showsPitfall).toBe(false);
      expect(more.metrics.accuracy).toBeGreaterThan(pitfall.metrics.accuracy);
    },
    SMALL_WORLD_TIMEOUT,
  );

  it(
    '11 catastrophic forgetting: full fine-tuning wrecks general text; LoRA and EWC forget far less',
    async () => {
      const { pitfall, fix } = await pitfallAndFix('forgetting', 'lora');
      expect(pitfall.showsPitfall).toBe(true);
      expect(pitfall.metrics.generalFactor).toBeGreaterThan(3);
      expect(fix.showsPitfall).toBe(false); // LoRA on all six projections: 1.7-2.3x on seeds 1-5 and 42
      expect(fix.metrics.generalFactor).toBeLessThan(pitfall.metrics.generalFactor * 0.7);
      const ewc = await variantDiagnosis('forgetting', 'ewc');
      expect(ewc.showsPitfall).toBe(false);
      expect(ewc.metrics.generalFactor).toBeLessThan(pitfall.metrics.generalFactor * 0.7);
    },
    SMALL_WORLD_TIMEOUT,
  );

  it('12 compute cost: LoRA trains and saves a few percent of what full fine-tuning does, holds less between steps and peaks lower within one; the parts add up to the peak', async () => {
    const { pitfall, fix } = await pitfallAndFix('compute-cost', 'lora');
    expect(fix.metrics.trainableParams).toBeLessThan(pitfall.metrics.trainableParams * 0.05);
    expect(fix.metrics.savedBytes).toBeLessThan(pitfall.metrics.savedBytes * 0.05);
    // between steps full fine-tuning keeps AdamW's moments and a rollback copy for every weight
    expect(fix.metrics.heldMemory).toBeLessThan(pitfall.metrics.heldMemory);
    expect(fix.metrics.peakMemory).toBeLessThan(pitfall.metrics.peakMemory);
    expect(fix.metrics.optimizerStateBytes).toBeLessThan(pitfall.metrics.optimizerStateBytes * 0.05);
    for (const d of [pitfall, fix]) {
      const m = d.metrics;
      const parts =
        m.frozenWeightBytes +
        m.trainableWeightBytes +
        m.optimizerStateBytes +
        m.copyBytes +
        m.activationBytes +
        m.gradientBytes +
        m.temporaryBytes;
      expect(parts).toBe(m.peakMemory);
      expect(m.peakMemory).toBeGreaterThan(m.heldMemory);
      expect(d.text).toContain('activations kept for the backward pass');
    }
  });

  it('13 hyperparameter search: a grid over lr and rank beats one run at the library defaults on the untouched test split', async () => {
    const { pitfall, fix } = await pitfallAndFix('hyperparameter-search', 'grid');
    expect(pitfall.metrics.runs).toBe(1);
    expect(pitfall.showsPitfall).toBe(true); // the library defaults get less than half the way in 40 steps
    expect(fix.metrics.runs).toBe(6);
    expect(fix.showsPitfall).toBe(false);
    expect(fix.metrics.testLoss).toBeLessThan(pitfall.metrics.testLoss);
  });
});

everyOtherFix('lessons 10-16, every other fix', {
  imbalance: ['undersample', 'more-rare'],
  forgetting: ['lora', 'ewc'],
  'compute-cost': ['lora'],
  'hyperparameter-search': ['grid'],
  'gradual-unfreezing': ['gradual'],
  duplicates: ['dedupe'],
  shortcut: ['oversample'],
});
