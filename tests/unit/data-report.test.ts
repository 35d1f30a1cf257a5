// validationReport on crafted datasets: each problem is counted, named by record id, and explained.

import { describe, expect, it } from 'vitest';
import { trailingSeparator, validationReport } from '../../src/core/data/report';
import type { DataRecord } from '../../src/core/data/types';
import { CharTokenizer } from '../../src/core/tokenizer/char';

const tok = new CharTokenizer();
const opts = { blockSize: 64, separator: ' ', appendEos: true };
const S = '\nSentiment:';

const crafted: DataRecord[] = [
  { id: 'r1', prompt: `great movie${S}`, completion: ' pos', label: 'pos', group: 'A' },
  { id: 'r2', prompt: `great movie${S}`, completion: ' pos', label: 'pos', group: 'A' }, // duplicate of r1
  { id: 'r3', prompt: 'bad movie ->', completion: ' neg', label: 'neg', group: 'A' }, // other separator
  { id: 'r4', prompt: '', completion: ' pos', label: 'pos', group: 'A' }, // empty prompt
  { id: 'r5', prompt: `great movie${S}`, completion: ' neg', label: 'neg', group: 'A' }, // conflicts with r1
  { id: 'r6', prompt: `${'x'.repeat(100)}${S}`, completion: ' pos', label: 'pos', group: 'A' }, // over-long
  { id: 'r7', prompt: `café review${S}`, completion: ' pos', label: 'pos', group: 'A' }, // unknown é
  { id: 'r8', text: 'just some text' }, // mixed formats
  { id: 'r9', prompt: `fine film${S}`, completion: ' pos', label: 'pos', group: 'B' }, // group B has no neg
];

describe('validationReport on a crafted dataset', () => {
  const rep = validationReport(crafted, tok, opts);
  const texts = rep.messages.map((m) => m.text);
  const find = (re: RegExp) => texts.find((t) => re.test(t));

  it('counts kinds, empties, duplicates and conflicts', () => {
    expect(rep.count).toBe(9);
    expect([rep.promptCompletion, rep.textOnly]).toEqual([8, 1]);
    expect(rep.empty).toEqual({ count: 1, ids: ['r4'] });
    expect(rep.duplicates).toEqual({ count: 1, groups: [['r1', 'r2']] });
    expect(rep.conflicts).toEqual({ count: 2, groups: [['r1', 'r2', 'r5']] });
    expect(find(/exact duplicates/)).toBe(
      '1 of 9 records (11%) are exact duplicates (r1 = r2): they count twice in training and can leak into validation. Remove the copies.',
    );
    expect(find(/empty prompt/)).toMatch(/^1 of 9 records \(11%\) have an empty prompt, completion or text \(r4\)/);
    expect(find(/different answers/)).toBe(
      '1 prompt appears with different answers, e.g. "great movie\\nSentiment:" is answered " pos" (r1, r2) and " neg" (r5): the model cannot learn conflicting answers, so at least one is a wrong label. Keep one answer per prompt.',
    );
  });

  it('finds over-long records and says they will be truncated', () => {
    expect(rep.overLong).toEqual({ count: 1, ids: ['r6'], longest: 117, answerLost: ['r6'] });
    expect(find(/longer than/)).toBe(
      '1 of 9 records (11%) are longer than 65 tokens, the most one example holds with a 64-token context (the longest has 117): they will be truncated, so the end of each, including its end-of-sequence marker, is lost (r6). Shorten them or use a longer context.',
    );
    expect(find(/prompt alone fills/)).toMatch(/^In 1 of them \(r6\)/);
  });

  it('detects mixed formats and the distinct trailing separators', () => {
    expect(rep.mixedFormats).toBe(true);
    expect(rep.separators).toEqual([
      { separator: S, count: 6, ids: ['r1', 'r2', 'r5', 'r6', 'r7', 'r9'] },
      { separator: ' ->', count: 1, ids: ['r3'] },
    ]);
    expect(find(/different ways/)).toBe(
      'Prompts end in 2 different ways: "\\nSentiment:" (6, e.g. r1), " ->" (1, e.g. r3). Use one format for every record: the model learns each format separately and answers worse when they are mixed.',
    );
    expect(find(/plain text/)).toMatch(/^8 records are prompt\/completion pairs but 1 is plain text \(e\.g\. r8\)/);
  });

  it('reports label and group balance', () => {
    expect(rep.labels).toEqual({ counts: { pos: 6, neg: 2 }, labelled: 8, largestShare: 0.75, imbalanceRatio: 3 });
    expect(find(/^Label "pos"/)).toBe(
      'Label "pos" has 6 of 8 labelled records (75%) but "neg" only 2 (3 to 1). Always answering "pos" already scores 75%: judge accuracy against that baseline, or rebalance the classes.',
    );
    expect(find(/have no label/)).toBe('1 of 9 records (11%) have no label; the label counts cover the other 8.');
    expect(rep.groups).toEqual({ counts: { A: 7, B: 1 }, byLabel: { A: { pos: 5, neg: 2 }, B: { pos: 1 } } });
    expect(find(/^Group "B" has no/)).toBe(
      'Group "B" has no records labelled "neg", so the model can learn the group itself as a shortcut to the answer.',
    );
  });

  it('lists characters the tokenizer maps to <unk>', () => {
    expect(rep.unknownChars).toEqual([{ char: 'é', count: 1, ids: ['r7'] }]);
    expect(find(/<unk>/)).toMatch(
      /^1 character is not in the tokenizer's alphabet and become <unk>: "é" \(U\+00E9, 1×, e\.g\. r7\)/,
    );
  });

  it('orders messages errors, warnings, info', () => {
    const rank = { error: 0, warning: 1, info: 2 };
    const ranks = rep.messages.map((m) => rank[m.level]);
    expect(ranks).toEqual([...ranks].sort());
  });
});

describe('validationReport: single findings', () => {
  const pairs = (n: number, f: (i: number) => Partial<DataRecord>): DataRecord[] =>
    Array.from({ length: n }, (_, i) => ({ id: `line-${i + 1}`, prompt: `q${i}`, completion: `a${i}`, ...f(i) }));

  it('a clean, balanced dataset gives only info', () => {
    const rep = validationReport(
      pairs(4, (i) => ({ label: i % 2 ? 'b' : 'a', completion: i % 2 ? 'b' : 'a', prompt: `q${i}?` })),
      tok,
      { ...opts, separator: '\nA: ' },
    );
    expect(rep.messages.map((m) => m.level)).toEqual(['info']);
    expect(rep.messages[0].text).toBe('Labels are balanced: "a" 2, "b" 2.');
    expect(rep.mixedFormats).toBe(false);
  });

  it('an empty dataset and an all-empty dataset are errors', () => {
    expect(validationReport([], tok, opts).messages[0]).toEqual({
      level: 'error',
      text: 'The dataset has no records: add at least a few prompt/completion pairs before training.',
    });
    const rep = validationReport(
      pairs(2, () => ({ completion: ' ' })),
      tok,
      opts,
    );
    expect(rep.messages[0]).toEqual({
      level: 'error',
      text: 'Every record is empty (line-1, line-2): there is nothing to train on.',
    });
  });

  it('warns when prompts run straight into answers (missing separator)', () => {
    const rep = validationReport(
      pairs(3, () => ({})),
      tok,
      { ...opts, separator: '' },
    );
    expect(rep.separators).toEqual([{ separator: '', count: 3, ids: ['line-1', 'line-2', 'line-3'] }]);
    expect(rep.messages[0].text).toBe(
      'No prompt ends with a separator and data.separator is empty, so each prompt runs straight into its answer ("q0a0"): the model cannot tell where the question stops. Set data.separator, e.g. "\\nA: ".',
    );
  });

  it('notes a missing end-of-sequence marker and a doubled separator', () => {
    const rep = validationReport(
      pairs(2, (i) => ({ prompt: `q${i}\nA:` })),
      tok,
      { ...opts, separator: '\nA: ', appendEos: false },
    );
    expect(rep.messages.map((m) => m.text)).toEqual([
      'Every prompt already ends with "\\nA:" and data.separator adds "\\nA: " after it; make sure that doubled marker is what you want the model to see.',
      'data.appendEos is off: completions carry no end-of-sequence marker, so the model never learns where an answer ends and generation runs on past it.',
    ]);
  });

  it('counts a record of exactly blockSize + 1 tokens as fitting', () => {
    const fits = { id: 'fit', text: 'x'.repeat(8) }; // 8 chars + <eos> = 9 = blockSize + 1
    const over = { id: 'over', text: 'x'.repeat(9) };
    expect(validationReport([fits, over], tok, { ...opts, blockSize: 8 }).overLong).toEqual({
      count: 1,
      ids: ['over'],
      longest: 10,
      answerLost: [],
    });
  });

  it('warns about a separator the tokenizer cannot encode and a tiny group', () => {
    const rep = validationReport(
      pairs(11, (i) => ({ group: i === 0 ? 'rare' : 'common' })),
      tok,
      { ...opts, separator: ' → ' },
    );
    const texts = rep.messages.map((m) => m.text);
    expect(texts).toContain(
      'data.separator " → " contains "→", which the tokenizer turns into <unk> in every record. Choose a separator made of plain characters.',
    );
    expect(texts).toContain(
      'Group "rare" has only 1 of 11 grouped records (9%): its metrics will be noisy and the model sees few examples of it.',
    );
  });
});

describe('trailingSeparator', () => {
  it('recognises common prompt endings', () => {
    expect(trailingSeparator('Q: 2+2?\nA:')).toBe('\nA:');
    expect(trailingSeparator('What is 2+2? Answer: ')).toBe(' Answer: ');
    expect(trailingSeparator('2+2 ->')).toBe(' ->');
    expect(trailingSeparator('2+2 =')).toBe(' =');
    expect(trailingSeparator('Translate this ###')).toBe(' ###');
    expect(trailingSeparator('Question?\n')).toBe('\n');
    expect(trailingSeparator('What is 2+2?')).toBe('');
  });
});
