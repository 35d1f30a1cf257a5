// splitRecords and kFold: seeded, complete, disjoint; a record budget shared by training and validation.

import { describe, expect, it } from 'vitest';
import { defaultConfig, mergeConfig } from '../../src/core/config';
import { prepareData } from '../../src/core/data/prepare';
import { kFold, splitCounts, splitRecords } from '../../src/core/data/split';
import { CharTokenizer } from '../../src/core/tokenizer/char';

const items = Array.from({ length: 101 }, (_, i) => ({ id: `r${i}` }));
const ids = (xs: { id: string }[]) => xs.map((x) => x.id);

describe('splitRecords', () => {
  it('puts every record in exactly one split, with counts summing to n', () => {
    const s = splitRecords(items, { train: 0.8, val: 0.1, test: 0.1 }, 7);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([81, 10, 10]);
    expect([...ids(s.train), ...ids(s.val), ...ids(s.test)].sort()).toEqual(ids(items).sort());
  });

  it('gives the same split for the same seed and a different one for another seed', () => {
    const split = { train: 0.7, val: 0.2, test: 0.1 };
    expect(splitRecords(items, split, 3)).toEqual(splitRecords(items, split, 3));
    expect(ids(splitRecords(items, split, 3).val)).not.toEqual(ids(splitRecords(items, split, 4).val));
  });

  it('does not change its input', () => {
    const copy = [...items];
    splitRecords(items, { train: 0.8, val: 0.1, test: 0.1 }, 1);
    expect(items).toEqual(copy);
  });

  it('gives val and test at least one record from n = 3 and keeps one for training', () => {
    expect(splitCounts(3, { train: 0.9, val: 0.05, test: 0.05 })).toEqual({ train: 1, val: 1, test: 1 });
    expect(splitCounts(10, { train: 0.98, val: 0.01, test: 0.01 })).toEqual({ train: 8, val: 1, test: 1 });
    expect(splitCounts(10, { train: 1, val: 0, test: 0 })).toEqual({ train: 10, val: 0, test: 0 });
    expect(splitCounts(2, { train: 0.5, val: 0.25, test: 0.25 })).toEqual({ train: 1, val: 1, test: 0 });
    expect(splitCounts(1, { train: 0.8, val: 0.1, test: 0.1 })).toEqual({ train: 1, val: 0, test: 0 });
    expect(splitCounts(0, { train: 0.8, val: 0.1, test: 0.1 })).toEqual({ train: 0, val: 0, test: 0 });
    for (let n = 0; n < 40; n++) {
      const c = splitCounts(n, { train: 0.6, val: 0.25, test: 0.15 });
      expect(c.train + c.val + c.test).toBe(n);
    }
  });

  it('rejects fractions that leave nothing for training', () => {
    expect(() => splitCounts(10, { train: 0, val: 0.5, test: 0.5 })).toThrow(/val \+ test = 1 is not valid/);
    expect(() => splitCounts(10, { train: 0.9, val: -0.1, test: 0.2 })).toThrow(/data.split.val = -0.1 is not valid/);
  });
});

describe('kFold', () => {
  it('puts each record in exactly one val fold and every other fold in train', () => {
    const folds = kFold(items, 5, 11);
    expect(folds).toHaveLength(5);
    const allVal = folds.flatMap((f) => ids(f.val));
    expect(allVal.sort()).toEqual(ids(items).sort());
    for (const f of folds) {
      expect(f.train.length + f.val.length).toBe(101);
      expect(f.val.length === 20 || f.val.length === 21).toBe(true);
      expect(ids(f.train).filter((id) => ids(f.val).includes(id))).toEqual([]);
    }
    expect(kFold(items, 5, 11)).toEqual(folds);
  });

  it('rejects k outside 2..n', () => {
    expect(() => kFold(items, 1, 0)).toThrow(/k = 1 is not valid: an integer from 2 to the number of records \(101\)/);
    expect(() => kFold(items.slice(0, 3), 4, 0)).toThrow(/k = 4/);
  });
});

describe('data.recordBudget', () => {
  const records = Array.from({ length: 200 }, (_, i) => ({ id: `r${i}`, prompt: `q${i}`, completion: `a${i}` }));
  const noFiles = {
    bytes: () => Promise.reject(new Error('no files')),
    text: () => Promise.reject(new Error('no files')),
  };
  const prepared = (split: { train: number; val: number; test: number }, recordBudget: number) =>
    prepareData(
      mergeConfig(defaultConfig(), { data: { dataset: 'custom', split, recordBudget }, eval: { general: false } }),
      new CharTokenizer(),
      noFiles,
      records,
    );

  it('pays for the validation records with training records: train + val = the budget, shared as the split shares them', async () => {
    const withVal = await prepared({ train: 0.75, val: 0.15, test: 0.1 }, 48);
    expect([withVal.records.train.length, withVal.records.val.length]).toEqual([40, 8]);
    const noVal = await prepared({ train: 0.9, val: 0, test: 0.1 }, 48);
    expect([noVal.records.train.length, noVal.records.val.length]).toEqual([48, 0]);
    // the test split is the dataset's own either way, and no record is in two places
    expect(withVal.records.test.length).toBe(20);
    const seen = [...withVal.records.train, ...withVal.records.val, ...withVal.records.test].map((r) => r.id);
    expect(new Set(seen).size).toBe(seen.length);
    // without a budget the validation split comes on top of the training records
    const free = await prepared({ train: 0.75, val: 0.15, test: 0.1 }, 0);
    expect([free.records.train.length, free.records.val.length]).toEqual([150, 30]);
  });
});
