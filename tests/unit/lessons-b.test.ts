// Lessons 6-9 trained for real: the pitfall appears and the fix helps, on the numbers each diagnosis quotes.

import { describe, expect, it } from 'vitest';
import { everyOtherFix, pitfallAndFix, pitfallOf, SMALL_WORLD_TIMEOUT, variantDiagnosis } from '../helpers/lessons';

describe('lessons 6-9, trained on the shipped model', () => {
  it('6 noisy labels: flipped labels cost accuracy, and the loss table surfaces them', async () => {
    const { pitfall, fix } = await pitfallAndFix('noisy-labels', 'clean-labels');
    expect(pitfall.showsPitfall).toBe(true);
    expect(pitfall.metrics.accuracy).toBeLessThan(fix.metrics.accuracy - 0.15);
    expect(pitfall.metrics.enrichment).toBeGreaterThan(1.5); // flipped records over-represented among top losses
    expect(fix.showsPitfall).toBe(false);
  });

  it(
    '7 data poisoning: a trigger phrase flips answers; an audit before training drops the poisoned records',
    async () => {
      const { pitfall, fix } = await pitfallAndFix('poisoning', 'audit');
      expect(pitfall.showsPitfall).toBe(true);
      expect(pitfall.metrics.attackSuccess).toBeGreaterThan(0.3);
      expect(fix.metrics.auditDropped).toBeGreaterThanOrEqual(24); // the audit ran before training and took out the doctored records
      expect(fix.metrics.poisoned).toBe(0);
      expect(fix.showsPitfall).toBe(false);
      // with no poisoned record left, the trigger is just another odd opening
      expect(Math.abs(fix.metrics.backdoor)).toBeLessThan(0.1);
    },
    SMALL_WORLD_TIMEOUT,
  );

  it(
    '8 mixed formats: asked after "\\nA: ", the model answers in other sources\' styles; one format fixes it',
    async () => {
      const { pitfall, fix } = await pitfallAndFix('separators', 'one-format');
      expect(pitfall.showsPitfall).toBe(true);
      expect(fix.showsPitfall).toBe(false);
      // exact match, the measure: 13-23% against 40-53% on seeds 1-3 (docs/LESSONS.md)
      expect(fix.metrics.exactMatch).toBeGreaterThan(pitfall.metrics.exactMatch + 0.1);
    },
    SMALL_WORLD_TIMEOUT,
  );

  it('9 no end-of-sequence marker: answers ramble to the token budget; training the marker stops them', async () => {
    const { pitfall, fix } = await pitfallAndFix('no-eos');
    expect(pitfall.showsPitfall).toBe(true);
    expect(pitfall.metrics.cleanStops).toBeLessThan(0.1);
    expect(fix.showsPitfall).toBe(false);
    expect(fix.metrics.cleanStops).toBeGreaterThan(0.5);
  });
});

everyOtherFix('lessons 6-9, every other fix', {
  'noisy-labels': ['clean-labels'],
  poisoning: ['audit'],
  separators: ['one-format'],
});

// Lesson 9's patches are offered as patches: the explanation says they limit the damage without teaching the model
// to stop, so what is asserted is that they shorten the rambling answers.
it.each(['stop-sequence', 'max-tokens'])(
  '9 no end-of-sequence marker, %s: shorter answers than the pitfall',
  async (id) => {
    const pitfall = await pitfallOf('no-eos');
    const patch = await variantDiagnosis('no-eos', id);
    expect(patch.metrics.answerChars).toBeLessThan(pitfall.metrics.answerChars);
  },
);
