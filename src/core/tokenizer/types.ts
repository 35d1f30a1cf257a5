// What every tokenizer offers the engine: the built-in char tokenizer and imported GPT-2 BPE alike.

import type { ChatMessage } from '../data/types';

export interface Tokenizer {
  readonly kind: 'char' | 'gpt2-bpe' | 'hf';
  readonly vocabSize: number;
  /** Id of the end-of-sequence token: appended to completions, and where generation stops. */
  readonly eosId: number;
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** The end-of-sequence token as text, where it has one (a chat template writes it at the end of a turn). */
  readonly eosText?: string;
  /** The model's chat template applied to turns, where it has one (tokenizer_config.json's chat_template). */
  chat?(messages: ChatMessage[], addGenerationPrompt: boolean): string;
  /** A JSON-serialisable description that rebuilds this tokenizer (saved next to the model). */
  toJSON(): unknown;
}
