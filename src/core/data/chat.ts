// Chat records (a list of system/user/assistant turns) as prompt + completion: trained on the last assistant turn.
// A model with a chat template (tokenizer_config.json's chat_template, rendered through @huggingface/jinja, the
// template engine of transformers.js) gets its turns written exactly as it was trained on them; any other model a
// plain "User: … / Assistant: …" form. The completion is the text the template writes after the generation prompt,
// less its final end-of-turn token, which the run's appendEos adds as a token id.

import type { Tokenizer } from '../tokenizer/types';
import type { ChatMessage, DataRecord } from './types';

const SPEAKER: Record<ChatMessage['role'], string> = { system: 'System', user: 'User', assistant: 'Assistant' };

/** The plain form for a model without a template: one "Speaker: text" line per turn, the answer after "Assistant: ". */
export function plainChat(messages: ChatMessage[]): { prompt: string; completion: string } {
  const turns = messages.slice(0, -1).map((m) => `${SPEAKER[m.role]}: ${m.content}\n`);
  return { prompt: turns.join('') + 'Assistant: ', completion: messages.at(-1)!.content };
}

/**
 * A chat record as its model's template writes it (unchanged when the tokenizer has no template). The prompt is
 * the turns before the answer with the generation prompt; the completion is what the whole conversation adds to it.
 */
export function withChatTemplate(r: DataRecord, tok: Tokenizer): DataRecord {
  if (!r.messages || !tok.chat) return r;
  const prompt = tok.chat(r.messages.slice(0, -1), true);
  const full = tok.chat(r.messages, false);
  if (!full.startsWith(prompt)) return r; // a template that rewrites earlier turns: keep the plain form
  let completion = full.slice(prompt.length).replace(/\s+$/, '');
  const eos = tok.eosText;
  if (eos && completion.endsWith(eos)) completion = completion.slice(0, -eos.length);
  return { ...r, prompt, completion, separator: '' };
}
