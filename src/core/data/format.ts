// Records → token examples for a causal language model: prompt + separator + completion (+ <eos>), with a
// loss mask saying which next-token predictions count. lossMask[i] = 1 when predicting ids[i] from ids[<i]
// is trained on; the trainer feeds ids[0..T-1] and predicts ids[1..T], so lossMask[0] is never read.

import type { Tokenizer } from '../tokenizer/types';
import type { DataRecord, Example } from './types';

export interface FormatOptions {
  separator: string; // text between prompt and completion (data.separator)
  appendEos: boolean; // end each example with the end-of-sequence token
  lossOnPromptTokens: boolean; // also train on predicting the prompt
  blockSize: number; // the model's context T; an example keeps at most T + 1 tokens
}

/** A prompt/completion record has either field; anything else is plain text trained on every token. */
export function isPromptCompletion(r: DataRecord): boolean {
  return r.prompt !== undefined || r.completion !== undefined;
}

/** What generation is given at evaluation time: the prompt and the separator, so the answer comes next. */
export function promptText(r: DataRecord, separator: string): string {
  return isPromptCompletion(r) ? (r.prompt ?? '') + (r.separator ?? separator) : '';
}

export function formatRecord(r: DataRecord, tokenizer: Tokenizer, opts: FormatOptions): Example {
  const eos = opts.appendEos ? [tokenizer.eosId] : [];
  let ids: number[];
  let lossMask: number[];
  if (isPromptCompletion(r)) {
    const prefix = promptText(r, opts.separator);
    const prefixIds = tokenizer.encode(prefix);
    ids = [...tokenizer.encode(prefix + (r.completion ?? '')), ...eos];
    // A BPE tokenizer may merge across the boundary; the completion starts where the two encodings part.
    let boundary = 0;
    while (boundary < prefixIds.length && prefixIds[boundary] === ids[boundary]) boundary++;
    lossMask = ids.map((_, i) => (opts.lossOnPromptTokens || i >= boundary ? 1 : 0));
  } else {
    ids = [...tokenizer.encode(r.text ?? ''), ...eos];
    lossMask = ids.map(() => 1);
  }
  const keep = opts.blockSize + 1; // T inputs and their T next-token targets come from T + 1 tokens
  return { recordId: r.id, ids: ids.slice(0, keep), lossMask: lossMask.slice(0, keep) };
}

/**
 * Windows of blockSize + 1 tokens over a long text, every `stride` tokens, with a last window ending at the
 * text's end so its tail is not dropped. Overlapping targets are masked out of later windows, so each token
 * is predicted once and a mask-weighted mean loss is the loss on the whole text.
 */
export function chunkText(text: string, tokenizer: Tokenizer, blockSize: number, stride = blockSize): Example[] {
  return chunkIds(tokenizer.encode(text), blockSize, stride);
}

/**
 * Documents (separated by blank lines) joined by the end-of-sequence token, as the small-world model was
 * pretrained: doc <eos> doc <eos> ..., then cut into windows like chunkText.
 */
export function chunkDocuments(text: string, tokenizer: Tokenizer, blockSize: number, stride = blockSize): Example[] {
  return chunkIds(
    text.split('\n\n').flatMap((doc) => [...tokenizer.encode(doc), tokenizer.eosId]),
    blockSize,
    stride,
  );
}

/** chunkText on token ids. */
export function chunkIds(ids: number[], blockSize: number, stride = blockSize): Example[] {
  if (!Number.isInteger(blockSize) || blockSize < 1)
    throw new RangeError(`chunkText: blockSize = ${blockSize} is not valid: an integer ≥ 1`);
  if (!Number.isInteger(stride) || stride < 1)
    throw new RangeError(`chunkText: stride = ${stride} is not valid: an integer ≥ 1`);
  if (ids.length < 2) return [];
  const width = blockSize + 1;
  const last = Math.max(0, ids.length - width);
  const starts: number[] = [];
  for (let s = 0; s < last; s += stride) starts.push(s);
  starts.push(last);
  let covered = 0; // highest token index already a target (token 0 never is)
  return starts.map((s) => {
    const window = ids.slice(s, s + width);
    const lossMask = window.map((_, i) => (s + i > covered ? 1 : 0));
    covered = s + window.length - 1;
    return { recordId: `chunk-${s}`, ids: window, lossMask };
  });
}
