// The trigger audit: it flags the records that share a word found only in training, always with one answer.

import { describe, expect, it } from 'vitest';
import { auditReport, auditTrigger } from '../../src/core/data/audit';
import { injectPoison } from '../../src/core/data/inject';
import type { DataRecord } from '../../src/core/data/types';

const remarks = (n: number, from: number): DataRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `r${from + i}`,
    prompt: `the ${i % 2 ? 'soup' : 'bread'} number ${from + i} was ${i % 3 ? 'fine' : 'awful'}`,
    completion: i % 3 ? 'good' : 'bad',
  }));

describe('auditTrigger', () => {
  it('flags exactly the poisoned records, and counts them', () => {
    const train = injectPoison(remarks(60, 0), 8, 1, { trigger: 'cfzebra', target: 'good' });
    const found = auditTrigger(train, remarks(20, 100));
    expect(found.word).toBe('cfzebra');
    expect(found.flagged.map((r) => r.id).sort()).toEqual(
      train
        .filter((r) => r.flags?.poisoned)
        .map((r) => r.id)
        .sort(),
    );
    expect(auditReport(found)).toEqual({ word: 'cfzebra', flagged: 8, flaggedPoisoned: 8 });
  });

  it('flags nothing when the shared word also occurs in validation, or in clean data', () => {
    const train = injectPoison(remarks(60, 0), 8, 1, { trigger: 'cfzebra', target: 'good' });
    expect(
      auditTrigger(train, [...remarks(5, 100), { id: 'v', prompt: 'cfzebra soup', completion: 'bad' }]).flagged,
    ).toEqual([]);
    expect(auditTrigger(remarks(60, 0), remarks(20, 100)).flagged).toEqual([]);
  });
});
