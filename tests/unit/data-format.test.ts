// formatRecord and chunkText with the real CharTokenizer: masks, <eos>, truncation to blockSize + 1 tokens.

import { describe, expect, it } from 'vitest';
import { chunkDocuments, chunkText, formatRecord, promptText } from '../../src/core/data/format';
import { generalCorpus } from '../../src/core/data/prepare';
import { CharTokenizer } from '../../src/core/tokenizer/char';

const tok = new CharTokenizer();
const opts = { separator: '\nA: ', appendEos: true, lossOnPromptTokens: false, blockSize: 64 };

describe('formatRecord', () => {
  it('encodes prompt + separator + completion + <eos> and masks only the answer', () => {
    const r = { id: 'r1', prompt: 'Q: 2+2?', completion: '4' };
    const ex = formatRecord(r, tok, opts);
    expect(ex.recordId).toBe('r1');
    expect(ex.ids).toEqual([...tok.encode('Q: 2+2?\nA: 4'), tok.eosId]);
    const promptLen = 'Q: 2+2?\nA: '.length;
    expect(ex.lossMask).toEqual([...Array(promptLen).fill(0), 1, 1]);
    expect(tok.decode(ex.ids.filter((_, i) => ex.lossMask[i] === 1))).toBe('4<eos>');
  });

  it('trains on every token with lossOnPromptTokens, and drops <eos> without appendEos', () => {
    const r = { id: 'r', prompt: 'ab', completion: 'cd' };
    expect(formatRecord(r, tok, { ...opts, lossOnPromptTokens: true }).lossMask).toEqual(Array(9).fill(1));
    const noEos = formatRecord(r, tok, { ...opts, appendEos: false });
    expect(noEos.ids).toEqual(tok.encode('ab\nA: cd'));
    expect(noEos.lossMask).toEqual([0, 0, 0, 0, 0, 0, 1, 1]);
  });

  it('masks every token of a text record', () => {
    const ex = formatRecord({ id: 't', text: 'hello' }, tok, opts);
    expect(ex.ids).toEqual([...tok.encode('hello'), tok.eosId]);
    expect(ex.lossMask).toEqual(Array(6).fill(1));
  });

  it('truncates to blockSize + 1 tokens, ids and mask alike', () => {
    const r = { id: 'long', prompt: 'p', completion: 'x'.repeat(50) };
    const ex = formatRecord(r, tok, { ...opts, blockSize: 8 });
    expect(ex.ids).toHaveLength(9);
    expect(ex.lossMask).toHaveLength(9);
    expect(ex.ids).toEqual(tok.encode('p\nA: xxxx'));
    expect(ex.lossMask).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1]);
  });

  it('promptText is what generation is given', () => {
    expect(promptText({ id: 'a', prompt: 'Q', completion: 'x' }, ' -> ')).toBe('Q -> ');
    expect(promptText({ id: 'b', text: 'plain' }, ' -> ')).toBe('');
  });
});

describe('chunkText', () => {
  const text = 'abcdefghijklmnopqrstuvwxyz0123'; // 30 tokens

  it('cuts windows of blockSize + 1 and counts every target exactly once', () => {
    const chunks = chunkText(text, tok, 8);
    expect(chunks.map((c) => c.recordId)).toEqual(['chunk-0', 'chunk-8', 'chunk-16', 'chunk-21']);
    for (const c of chunks) expect(c.ids).toHaveLength(9);
    expect(tok.decode(chunks[3].ids)).toBe('vwxyz0123'.slice(-9));
    // Tokens 1..29 are each a target in exactly one window.
    const counted = Array(30).fill(0);
    for (const c of chunks) {
      const start = Number(c.recordId.slice(6));
      c.lossMask.forEach((m, i) => (counted[start + i] += m));
    }
    expect(counted).toEqual([0, ...Array(29).fill(1)]);
  });

  it('masks overlapping targets when the stride is shorter than the block', () => {
    const chunks = chunkText(text, tok, 8, 4);
    expect(chunks.map((c) => c.recordId)).toEqual([
      'chunk-0',
      'chunk-4',
      'chunk-8',
      'chunk-12',
      'chunk-16',
      'chunk-20',
      'chunk-21',
    ]);
    expect(chunks[1].lossMask).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(chunks.reduce((s, c) => s + c.lossMask.reduce((a, b) => a + b, 0), 0)).toBe(29);
  });

  it('keeps a short text whole and rejects bad sizes', () => {
    expect(chunkText('hey', tok, 8)).toEqual([{ recordId: 'chunk-0', ids: tok.encode('hey'), lossMask: [0, 1, 1] }]);
    expect(chunkText('h', tok, 8)).toEqual([]);
    expect(() => chunkText(text, tok, 0)).toThrow(/blockSize = 0 is not valid/);
    expect(() => chunkText(text, tok, 8, 0)).toThrow(/stride = 0 is not valid/);
  });
});

describe('chunkDocuments', () => {
  const tok = new CharTokenizer();
  it('joins blank-line-separated documents with <eos>, each token predicted once', () => {
    const chunks = chunkDocuments('ab\ncd\n\nef', tok, 4);
    const ids = [...tok.encode('ab\ncd'), tok.eosId, ...tok.encode('ef'), tok.eosId];
    expect(chunks.map((c) => c.ids)).toEqual([ids.slice(0, 5), ids.slice(4, 9)]);
    expect(chunks.flatMap((c) => c.lossMask).filter((m) => m === 1).length).toBe(ids.length - 1);
  });
  it('is how general text is cut for small-world, and only for it', () => {
    expect(generalCorpus('small-world')).toMatchObject({
      heldout: 'corpus/small-world/heldout.txt',
      cut: chunkDocuments,
    });
    expect(generalCorpus('tiny-world')).toMatchObject({ heldout: 'corpus/general-heldout.txt', cut: chunkText });
  });
});
