// What every tokenizer offers the engine: the built-in char tokenizer and imported GPT-2 BPE alike.

export interface Tokenizer {
  readonly kind: 'char' | 'gpt2-bpe' | 'hf';
  readonly vocabSize: number;
  /** Id of the end-of-sequence token: appended to completions, and where generation stops. */
  readonly eosId: number;
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** A JSON-serialisable description that rebuilds this tokenizer (saved next to the model). */
  toJSON(): unknown;
}
