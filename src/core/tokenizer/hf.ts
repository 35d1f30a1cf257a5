// A Hugging Face tokenizer.json (byte-level BPE, SentencePiece-style BPE, WordPiece ...) with its normalizer,
// pre-tokenizer and added tokens, through @huggingface/tokenizers (the tokenizer of transformers.js, pure JS). Text
// is encoded without the special tokens the post-processor would add (BOS): the engine writes a record's tokens
// and appends eosId itself, as it does for every tokenizer. tests/python holds our ids equal to transformers'.

import { Template } from '@huggingface/jinja';
import { Tokenizer as HfTokenizerImpl } from '@huggingface/tokenizers';
import type { ChatMessage } from '../data/types';
import { AssetError } from '../assets';
import type { Tokenizer } from './types';

export class HfTokenizer implements Tokenizer {
  readonly kind = 'hf' as const;
  readonly vocabSize: number;
  readonly eosId: number;
  readonly eosText?: string;
  private readonly impl: HfTokenizerImpl;
  private readonly template: Template | null;
  /** Present only when the checkpoint has a chat template (tokenizer_config.json's chat_template). */
  readonly chat?: (messages: ChatMessage[], addGenerationPrompt: boolean) => string;

  /**
   * tokenizer: tokenizer.json parsed; config: tokenizer_config.json parsed ({} when there is none); eosId: the id
   * generation stops at (config.json's eos_token_id, else tokenizer_config's eos_token).
   */
  constructor(
    private readonly tokenizer: Record<string, unknown>,
    private readonly config: Record<string, unknown>,
    eosId?: number,
  ) {
    try {
      this.impl = new HfTokenizerImpl(tokenizer, config);
    } catch (e) {
      throw new AssetError('tokenizer.json', `could not be read as a Hugging Face tokenizer (${(e as Error).message})`);
    }
    const vocab = (tokenizer.model as { vocab?: unknown } | undefined)?.vocab;
    const added = (tokenizer.added_tokens as { id: number }[] | undefined) ?? [];
    const ids = [
      ...(Array.isArray(vocab) ? vocab.map((_, i) => i) : Object.values((vocab ?? {}) as Record<string, number>)),
      ...added.map((t) => t.id),
    ];
    this.vocabSize = ids.length === 0 ? 0 : Math.max(...ids) + 1;
    const eosTok = config.eos_token;
    const eosName = typeof eosTok === 'string' ? eosTok : (eosTok as { content?: string } | undefined)?.content;
    const fromName = eosName !== undefined ? this.impl.token_to_id(eosName) : undefined;
    const eos = eosId ?? fromName;
    if (eos === undefined || !Number.isInteger(eos))
      throw new AssetError(
        'tokenizer_config.json',
        'names no end-of-sequence token (eos_token), and config.json has no eos_token_id: the engine needs one to end completions',
      );
    this.eosId = eos;
    this.eosText = this.impl.id_to_token(eos);
    // chat_template: one template, or a list of named ones (the "default" one is the chat template)
    const t = config.chat_template;
    const source = Array.isArray(t)
      ? (t as { name?: string; template?: string }[]).find((x) => x.name === 'default')?.template
      : typeof t === 'string'
        ? t
        : undefined;
    try {
      this.template = source ? new Template(source) : null;
    } catch (e) {
      throw new AssetError('tokenizer_config.json', `chat_template could not be read (${(e as Error).message})`);
    }
    if (this.template) this.chat = (messages, addGenerationPrompt) => this.renderChat(messages, addGenerationPrompt);
  }

  /** The checkpoint's chat template over these turns (transformers' apply_chat_template, tokenize=False). */
  private renderChat(messages: ChatMessage[], addGenerationPrompt: boolean): string {
    if (!this.template) throw new Error('this tokenizer has no chat template');
    const special = (k: string) => {
      const v = this.config[k];
      return typeof v === 'string' ? v : ((v as { content?: string } | undefined)?.content ?? '');
    };
    return this.template.render({
      messages,
      add_generation_prompt: addGenerationPrompt,
      bos_token: special('bos_token'),
      eos_token: special('eos_token'),
    });
  }

  encode(text: string): number[] {
    return this.impl.encode(text, { add_special_tokens: false }).ids;
  }

  /**
   * An empty list decodes to "" (the library refuses one); ids outside the vocabulary (a checkpoint may pad its
   * embedding past the tokenizer) decode to U+FFFD, as GPT-2's do here.
   */
  decode(ids: number[]): string {
    let out = '';
    let run: number[] = [];
    const flush = () => {
      if (run.length > 0)
        out += this.impl.decode(run, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
      run = [];
    };
    for (const id of ids) {
      if (Number.isInteger(id) && id >= 0 && id < this.vocabSize) run.push(id);
      else {
        flush();
        out += '\uFFFD';
      }
    }
    flush();
    return out;
  }

  toJSON() {
    return { kind: this.kind, tokenizer: this.tokenizer, config: this.config, eosId: this.eosId };
  }
}
