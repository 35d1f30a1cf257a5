// GPT-2's byte-level BPE (Radford et al. 2019) for imported Hugging Face GPT-2 models: 50,257 ids, the last
// one <|endoftext|>. The merges come from gpt-tokenizer's r50k_base (the same table as GPT-2's vocab.json +
// merges.txt); it is imported on demand, so the built-in char model's bundle does not carry its 0.5 MB.

import type { Tokenizer } from './types';

type Encoding = typeof import('gpt-tokenizer/encoding/r50k_base');

export const GPT2_VOCAB_SIZE = 50257;
export const GPT2_EOS = '<|endoftext|>';
export const GPT2_EOS_ID = 50256;

// "<|endoftext|>" typed into a dataset is text like any other (as with tiktoken's disallowed_special=()):
// only the tokenizer's eosId marks an end, so a record cannot forge one.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

export class Gpt2Tokenizer implements Tokenizer {
  readonly kind = 'gpt2-bpe' as const;
  readonly vocabSize = GPT2_VOCAB_SIZE;
  readonly eosId = GPT2_EOS_ID;

  private constructor(private readonly enc: Encoding) {}

  static async load(): Promise<Gpt2Tokenizer> {
    return new Gpt2Tokenizer(await import('gpt-tokenizer/encoding/r50k_base'));
  }

  encode(text: string): number[] {
    return this.enc.encode(text, PLAIN_TEXT);
  }

  /**
   * Ids outside the vocabulary (a checkpoint may pad its embedding past 50,257 rows) decode to U+FFFD; the
   * first bytes of a character whose last bytes are missing (generation cut mid-character) decode to nothing.
   */
  decode(ids: number[]): string {
    let out = '';
    let run: number[] = [];
    const flush = () => {
      out += this.enc.decode(run);
      run = [];
    };
    for (const id of ids) {
      if (Number.isInteger(id) && id >= 0 && id < GPT2_VOCAB_SIZE) run.push(id);
      else {
        flush();
        out += '\uFFFD';
      }
    }
    flush();
    return out;
  }

  toJSON() {
    return { kind: this.kind };
  }
}
