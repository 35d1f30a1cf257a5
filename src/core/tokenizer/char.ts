// Character tokenizer for the built-in model: printable ASCII, newline, tab, plus <eos> and <unk>.
// Small on purpose: 99 ids, so the embedding is cheap and every lesson's text works with it.

import type { Tokenizer } from './types';

export const EOS = '<eos>';
export const UNK = '<unk>';

/** ids 0 and 1 are <eos> and <unk>; then '\t', '\n', and ' ' .. '~'. */
export function defaultCharset(): string[] {
  const chars = ['\t', '\n'];
  for (let c = 32; c <= 126; c++) chars.push(String.fromCharCode(c));
  return chars;
}

export class CharTokenizer implements Tokenizer {
  readonly kind = 'char' as const;
  readonly eosId = 0;
  readonly unkId = 1;
  readonly vocabSize: number;
  private readonly toId = new Map<string, number>();

  constructor(readonly chars: string[] = defaultCharset()) {
    chars.forEach((ch, i) => this.toId.set(ch, i + 2));
    this.vocabSize = chars.length + 2;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (const ch of text) ids.push(this.toId.get(ch) ?? this.unkId);
    return ids;
  }

  decode(ids: number[]): string {
    let s = '';
    for (const id of ids)
      s += id === this.eosId ? EOS : id === this.unkId ? '\uFFFD' : (this.chars[id - 2] ?? '\uFFFD');
    return s;
  }

  toJSON() {
    return { kind: this.kind, specials: [EOS, UNK], chars: this.chars };
  }

  static fromJSON(j: { chars: string[] }): CharTokenizer {
    if (!Array.isArray(j?.chars) || j.chars.some((c) => typeof c !== 'string' || [...c].length !== 1)) {
      throw new Error('tokenizer.json: "chars" must be a list of single characters');
    }
    return new CharTokenizer(j.chars);
  }
}
