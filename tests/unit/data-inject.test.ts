// Label noise, poisoning, rebalancing, duplicates and mixed formats: exact counts, real changes, copies not mutations, seeded.

import { describe, expect, it } from 'vitest';
import {
  dedupeRecords,
  duplicateKey,
  duplicateRecords,
  injectLabelNoise,
  injectPoison,
  insertTrigger,
  MIXED_FORMATS,
  mixFormats,
  rebalance,
} from '../../src/core/data/inject';
import { defaultConfig, mergeConfig } from '../../src/core/config';
import { formatRecord } from '../../src/core/data/format';
import { prepareData } from '../../src/core/data/prepare';
import { CharTokenizer } from '../../src/core/tokenizer/char';
import type { DataRecord } from '../../src/core/data/types';

const LABELS = ['negative', 'neutral', 'positive'];
const labelled: DataRecord[] = Array.from({ length: 60 }, (_, i) => {
  const label = LABELS[i % 3];
  return { id: `r${i}`, prompt: `review ${i}\nSentiment:`, completion: ` ${label}`, label };
});

describe('injectLabelNoise', () => {
  it('flips exactly round(fraction × labelled) labels, each to a different label, completion following', () => {
    const unlabelled: DataRecord = { id: 'plain', text: 'no label here' };
    const input = [...labelled, unlabelled];
    const before = structuredClone(input);
    const out = injectLabelNoise(input, 0.25, 5);
    expect(input).toEqual(before);
    const noisy = out.filter((r) => r.flags?.noisy);
    expect(noisy).toHaveLength(15);
    for (const r of noisy) {
      const orig = input.find((x) => x.id === r.id) as DataRecord;
      expect(r.label).not.toBe(orig.label);
      expect(LABELS).toContain(r.label);
      expect(r.completion).toBe(` ${r.label}`);
      expect(r.prompt).toBe(orig.prompt);
    }
    for (const r of out.filter((x) => !x.flags?.noisy)) expect(r).toEqual(input.find((x) => x.id === r.id));
    expect(out.find((r) => r.id === 'plain')).toEqual(unlabelled);
  });

  it('is seeded and rounds the count', () => {
    expect(injectLabelNoise(labelled, 0.1, 9)).toEqual(injectLabelNoise(labelled, 0.1, 9));
    expect(injectLabelNoise(labelled, 0.11, 9).filter((r) => r.flags?.noisy)).toHaveLength(7); // 6.6 → 7
    expect(injectLabelNoise(labelled, 0, 9)).toEqual(labelled);
  });

  it('refuses when there is only one label to choose from', () => {
    const one = labelled.map((r) => ({ ...r, label: 'x', completion: 'x' }));
    expect(() => injectLabelNoise(one, 0.5, 1)).toThrow(/at least two different labels.*"x"/);
    expect(() => injectLabelNoise(labelled, 1.5, 1)).toThrow(/data.labelNoise = 1.5 is not valid/);
  });
});

describe('injectPoison', () => {
  const opts = { trigger: 'cf-zebra', target: ' positive' };

  it('rewrites exactly count records with the trigger and the target answer', () => {
    const out = injectPoison(labelled, 5, 3, opts);
    const poisoned = out.filter((r) => r.flags?.poisoned);
    expect(poisoned).toHaveLength(5);
    for (const r of poisoned) {
      const orig = labelled.find((x) => x.id === r.id) as DataRecord;
      expect(r.prompt).toBe(insertTrigger(orig.prompt as string, 'cf-zebra'));
      expect(r.prompt).toContain('cf-zebra');
      expect(r.completion).toBe(' positive');
      expect(r.label).toBe(' positive');
      // Records that already answered the target are taken last.
      expect(orig.completion).not.toBe(' positive');
    }
    expect(out.filter((r) => !r.flags?.poisoned)).toEqual(labelled.filter((r) => !poisoned.some((p) => p.id === r.id)));
    expect(injectPoison(labelled, 5, 3, opts)).toEqual(out);
  });

  it('only poisons records that have a prompt, and rejects impossible counts', () => {
    const mixed: DataRecord[] = [{ id: 't', text: 'plain' }, ...labelled.slice(0, 2)];
    expect(injectPoison(mixed, 2, 0, opts).find((r) => r.id === 't')?.flags).toBeUndefined();
    expect(() => injectPoison(mixed, 3, 0, opts)).toThrow(/data.poisonCount = 3 is not valid: .*\(2\)/);
    expect(() => injectPoison(mixed, 1, 0, { trigger: ' ', target: 'x' })).toThrow(/trigger/);
  });
});

describe('rebalance', () => {
  const skewed: DataRecord[] = [
    ...Array.from({ length: 9 }, (_, i) => ({ id: `p${i}`, prompt: `p${i}`, completion: 'pos', label: 'pos' })),
    ...Array.from({ length: 2 }, (_, i) => ({ id: `n${i}`, prompt: `n${i}`, completion: 'neg', label: 'neg' })),
    { id: 'u', text: 'unlabelled' },
  ];
  const count = (rs: DataRecord[], l: string) => rs.filter((r) => r.label === l).length;

  it('oversamples the smaller classes up to the largest, spreading copies evenly', () => {
    const out = rebalance(skewed, 1, 'oversample');
    expect([count(out, 'pos'), count(out, 'neg')]).toEqual([9, 9]);
    expect(out.some((r) => r.id === 'u')).toBe(true);
    expect(new Set(out.map((r) => r.id)).size).toBe(out.length);
    const copiesOf = (id: string) => out.filter((r) => r.id === id || r.id.startsWith(`${id}#`)).length;
    expect([copiesOf('n0'), copiesOf('n1')].sort()).toEqual([4, 5]);
  });

  it('undersamples every class down to the smallest', () => {
    const out = rebalance(skewed, 1, 'undersample');
    expect([count(out, 'pos'), count(out, 'neg')]).toEqual([2, 2]);
    expect(out).toHaveLength(5);
    expect(rebalance(skewed, 1, 'undersample')).toEqual(out);
  });
});

describe('duplicateRecords and dedupeRecords', () => {
  it('repeats exactly round(share × n) records `copies` times in all, seeded, and dedupe gives back the originals', () => {
    const before = structuredClone(labelled);
    const out = duplicateRecords(labelled, { share: 0.1, copies: 12 }, 3);
    expect(labelled).toEqual(before);
    expect(out).toHaveLength(60 + 6 * 11);
    const counts = new Map<string, number>();
    for (const r of out) counts.set(duplicateKey(r), (counts.get(duplicateKey(r)) ?? 0) + 1);
    expect([...counts.values()].filter((c) => c === 12)).toHaveLength(6);
    expect([...counts.values()].filter((c) => c === 1)).toHaveLength(54);
    expect(new Set(out.map((r) => r.id)).size).toBe(out.length); // copies get their own ids: "r7~2", ...
    expect(out.filter((r) => r.id.includes('~')).every((r) => labelled.some((x) => r.id.startsWith(`${x.id}~`)))).toBe(
      true,
    );
    expect(duplicateRecords(labelled, { share: 0.1, copies: 12 }, 3)).toEqual(out);
    const back = dedupeRecords(out);
    expect(back).toHaveLength(60);
    expect(new Set(back.map(duplicateKey))).toEqual(new Set(labelled.map(duplicateKey)));
  });

  it('counts records with the same prompt and completion, or the same text, as one; share 0 copies nothing', () => {
    const rs: DataRecord[] = [
      { id: 'a', prompt: 'p', completion: 'c' },
      { id: 'b', prompt: 'p', completion: 'c' },
      { id: 'c', prompt: 'p', completion: 'd' },
      { id: 'd', text: 'hello' },
      { id: 'e', text: 'hello' },
    ];
    expect(dedupeRecords(rs).map((r) => r.id)).toEqual(['a', 'c', 'd']);
    expect(
      duplicateRecords(rs, { share: 0, copies: 5 }, 1)
        .map((r) => r.id)
        .sort(),
    ).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(() => duplicateRecords(rs, { share: 2, copies: 5 }, 1)).toThrow(/data.duplicate.share = 2 is not valid/);
  });
});

describe('mixFormats (lesson 8)', () => {
  const qa: DataRecord[] = Array.from({ length: 80 }, (_, i) => ({
    id: `q${i}`,
    prompt: `Who has cup ${i}?`,
    completion: 'Mia',
  }));
  const tok = new CharTokenizer();

  it('writes each record in one of the four formats, every format used, seeded, the input untouched', () => {
    const mixed = mixFormats(qa, 5);
    expect(mixed).toEqual(mixFormats(qa, 5));
    expect(qa[0]).toEqual({ id: 'q0', prompt: 'Who has cup 0?', completion: 'Mia' });
    const seen = new Set<string>();
    for (const r of mixed) {
      const f = MIXED_FORMATS.findIndex((m) => m.separator === r.separator && m.answer('Mia') === r.completion);
      expect(f, JSON.stringify(r)).toBeGreaterThanOrEqual(0);
      seen.add(`${f}`);
      expect(r.prompt).toBe(qa[mixed.indexOf(r)].prompt);
    }
    expect(seen.size).toBe(4);
    // two sources share the run's "\nA: " marker and answer differently: the marker does not say which answer comes
    expect(MIXED_FORMATS.filter((m) => m.separator === '\nA: ').map((m) => m.answer('dog'))).toEqual([
      'dog',
      'The answer is dog.',
    ]);
    expect(mixFormats([{ id: 't', text: 'plain text' }], 1)).toEqual([{ id: 't', text: 'plain text' }]);
  });

  it("a record's own separator replaces the run's, and the loss still starts at the completion", () => {
    const r = { id: 'a', prompt: 'Q?', completion: 'dog', separator: ' -> ' };
    const ex = formatRecord(r, tok, { separator: '\nA: ', appendEos: false, lossOnPromptTokens: false, blockSize: 64 });
    expect(tok.decode(ex.ids)).toBe('Q? -> dog');
    expect(ex.lossMask).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1]);
  });

  it("mixes the training and validation records and leaves the test split in the run's format", async () => {
    const noFiles = {
      bytes: () => Promise.reject(new Error('no files')),
      text: () => Promise.reject(new Error('no files')),
    };
    const c = mergeConfig(defaultConfig(), {
      data: { dataset: 'custom', mixFormats: true, split: { train: 0.6, val: 0.2, test: 0.2 } },
      eval: { general: false },
    });
    const d = await prepareData(c, tok, noFiles, qa);
    expect(d.records.train.every((r) => r.separator !== undefined)).toBe(true);
    expect(d.records.val.every((r) => r.separator !== undefined)).toBe(true);
    expect(d.records.test.every((r) => r.separator === undefined && r.completion === 'Mia')).toBe(true);
    expect(new Set(d.records.train.map((r) => r.completion)).size).toBeGreaterThan(1);
    // validation questions are asked as their own source wrote them
    const v = d.records.val[0];
    expect(tok.decode(d.valQuestions![0].prompt)).toBe(`${v.prompt}${v.separator}`);
    const plain = await prepareData(mergeConfig(c, { data: { mixFormats: false } }), tok, noFiles, qa);
    expect(plain.records.train.map((r) => r.id)).toEqual(d.records.train.map((r) => r.id)); // the same records
  });
});
