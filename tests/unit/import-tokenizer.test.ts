// GPT-2 BPE: ids known from outside this repository (tiktoken's README, the transformers docs, tiktoken's test
// plans), ids from an independent byte-level BPE (tests/fixtures/gpt2-bpe/reference_bpe.py), and round trips.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GPT2_EOS, GPT2_EOS_ID, Gpt2Tokenizer } from '../../src/core/tokenizer/gpt2';

const reference = JSON.parse(readFileSync(new URL('../fixtures/gpt2-bpe/ids.json', import.meta.url), 'utf8')) as {
  samples: { text: string; ids: number[] }[];
};

let tok: Gpt2Tokenizer;
beforeAll(async () => {
  tok = await Gpt2Tokenizer.load();
});

describe('GPT-2 BPE tokenizer', () => {
  it('describes itself as GPT-2: 50,257 ids, <|endoftext|> = 50256', () => {
    expect(tok.kind).toBe('gpt2-bpe');
    expect(tok.vocabSize).toBe(50257);
    expect(tok.eosId).toBe(50256);
    expect(tok.decode([GPT2_EOS_ID])).toBe(GPT2_EOS);
    expect(tok.toJSON()).toEqual({ kind: 'gpt2-bpe' });
  });

  it.each([
    ['Hello world', [15496, 995]], // PLATFORM.md; gpt-tokenizer and js-tiktoken
    ['hello world', [31373, 995]], // tiktoken README: tiktoken.get_encoding("gpt2")
    ['Hello, my dog is cute', [15496, 11, 616, 3290, 318, 13779]], // transformers GPT-2 docs
    ['Hello, World! How are you today? 🌍', [15496, 11, 2159, 0, 1374, 389, 345, 1909, 30, 12520, 234, 235]], // tiktoken test plan
    [
      'Привет, мир! Как дела?',
      [
        140, 253, 21169, 18849, 38857, 16843, 20375, 11, 12466, 120, 18849, 21169, 0, 12466, 248, 16142, 31583, 12466,
        112, 16843, 30143, 16142, 30,
      ],
    ], // tiktoken test plan
  ])('encodes %j to the published ids', (text, ids) => {
    expect(tok.encode(text)).toEqual(ids);
    expect(tok.decode(ids)).toBe(text);
  });

  it('matches the independent reference BPE on non-ASCII, whitespace and code samples', () => {
    expect(reference.samples.length).toBeGreaterThanOrEqual(10);
    for (const { text, ids } of reference.samples) expect(tok.encode(text), JSON.stringify(text)).toEqual(ids);
    const byText = new Map(reference.samples.map((s) => [s.text, s.ids]));
    expect(byText.get('café')).toEqual([66, 1878, 2634]); // 'c', 'af', 'é' (bytes C3 A9 as one token)
    expect(byText.get('😀')).toEqual([47249, 222]); // F0 9F 98 | 80: a 4-byte character over two tokens
  });

  it('round-trips arbitrary Unicode, including lone bytes of split characters', () => {
    for (const s of [
      'café',
      '日本語',
      '😀👩‍👩‍👧',
      'e\u0301',
      'tab\tnew\nline\r\n',
      '',
      ' ',
      '\u0000\u001f',
      'a'.repeat(300),
    ]) {
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
  });

  it('treats "<|endoftext|>" in text as plain text: only eosId ends a sequence', () => {
    const ids = tok.encode(`a${GPT2_EOS}b`);
    expect(ids).not.toContain(GPT2_EOS_ID);
    expect(tok.decode(ids)).toBe(`a${GPT2_EOS}b`);
  });

  it('decodes ids past the vocabulary (padded embeddings) to U+FFFD instead of throwing', () => {
    expect(tok.decode([15496, 50300, 995])).toBe('Hello\uFFFD world');
    expect(tok.decode([47249])).toBe(''); // first bytes of 😀 without the last one
  });
});
