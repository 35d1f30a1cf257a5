// Evaluation: mean loss over a split, per-example losses (to surface mislabeled or poisoned records),
// and greedy answers (scored by exactMatch in ../rules.ts).

import * as tf from '@tensorflow/tfjs';
import { KvCache, lastLogits } from '../model/kv-cache';
import type { ModelArch } from '../config';
import type { Example } from '../data/types';
import {
  headWeight,
  hiddenStates,
  logits,
  maskedCrossEntropy,
  tokenNll,
  type EmbedMode,
  type Params,
} from '../model/gpt';
import type { LoraSet } from '../model/lora';
import type { Tokenizer } from '../tokenizer/types';
import { disposeBatch, makeBatch } from '../train/batch';

/** What a forward pass needs besides the ids. */
export interface ModelView {
  params: Params;
  arch: ModelArch;
  lora: LoraSet | null;
  embedMode: EmbedMode;
}

/** Token-weighted mean loss over the examples (first maxBatches batches of batchSize; 0 = all). */
export async function evalLoss(m: ModelView, examples: Example[], batchSize: number, maxBatches = 0): Promise<number> {
  let sum = 0;
  let count = 0;
  const nBatches = Math.ceil(examples.length / batchSize);
  for (let b = 0; b < (maxBatches > 0 ? Math.min(maxBatches, nBatches) : nBatches); b++) {
    const batch = makeBatch(examples.slice(b * batchSize, (b + 1) * batchSize), m.arch.blockSize);
    const res = tf.tidy(() => {
      const lg = logits(m.params, m.arch, batch.x, { lora: m.lora, embedMode: m.embedMode });
      const n = tf.sum(batch.w);
      return tf.stack([tf.mul(maskedCrossEntropy(lg, batch.y, batch.w), n), n]);
    });
    const [s, n] = await res.data();
    res.dispose();
    disposeBatch(batch);
    sum += s;
    count += n;
  }
  return count > 0 ? sum / count : NaN;
}

/** Mean loss of each example on its own (loss-weighted tokens), in input order. */
export async function perExampleLoss(m: ModelView, examples: Example[], batchSize = 16): Promise<number[]> {
  const out: number[] = [];
  for (let b = 0; b < examples.length; b += batchSize) {
    const chunk = examples.slice(b, b + batchSize);
    const batch = makeBatch(chunk, m.arch.blockSize);
    const res = tf.tidy(() => {
      const nll = tokenNll(logits(m.params, m.arch, batch.x, { lora: m.lora, embedMode: m.embedMode }), batch.y);
      const w = batch.w.reshape([chunk.length, -1]);
      return tf.div(tf.sum(tf.mul(nll.reshape([chunk.length, -1]), w), 1), tf.maximum(tf.sum(w, 1), 1));
    });
    out.push(...(await res.data()));
    res.dispose();
    disposeBatch(batch);
  }
  return out;
}

/** Bytes of key/value cache one decoding batch may hold; more rows are decoded in turns. */
const CACHE_BUDGET = 256 * 2 ** 20;

/**
 * Greedy decoding of many prompts at once, through a key/value cache (model/kv-cache.ts): one pass over the
 * right-padded prompts, then one token per row per step. Stops a row at eosId, a stop id, after maxNew tokens, or
 * at the model's context.
 */
export async function greedyBatch(
  m: ModelView,
  prompts: number[][],
  maxNew: number,
  eosId: number,
  stopIds: number[] = [],
): Promise<number[][]> {
  const out: number[][] = prompts.map(() => []);
  const live = prompts.map((_, i) => i).filter((i) => prompts[i].length > 0 && prompts[i].length < m.arch.blockSize);
  if (live.length === 0 || maxNew <= 0) return out;
  const slots = Math.min(m.arch.blockSize, Math.max(...live.map((i) => prompts[i].length)) + maxNew);
  const rows = Math.max(1, Math.floor(CACHE_BUDGET / KvCache.bytes(m.arch, 1, slots)));
  for (let at = 0; at < live.length; at += rows)
    await decodeRows(m, live.slice(at, at + rows), prompts, maxNew, [eosId, ...stopIds], out);
  return out;
}

async function decodeRows(
  m: ModelView,
  idx: number[],
  prompts: number[][],
  maxNew: number,
  stops: number[],
  out: number[][],
) {
  const cache = new KvCache(m.arch, idx.length);
  const T = Math.max(...idx.map((i) => prompts[i].length));
  let tokens = idx.map((i) => [...prompts[i], ...new Array<number>(T - prompts[i].length).fill(0)]);
  let real = idx.map((i) => Array.from({ length: T }, (_, j) => j < prompts[i].length));
  const length = idx.map((i) => prompts[i].length);
  const done = idx.map(() => false);
  try {
    for (let step = 0; step < maxNew; step++) {
      const next = tf.tidy(() =>
        tf.argMax(lastLogits(m.params, cache.forward(m.params, tokens, real, { lora: m.lora }), real), -1),
      );
      const picked = await next.data();
      next.dispose();
      idx.forEach((i, r) => {
        if (done[r]) return;
        if (stops.includes(picked[r])) done[r] = true;
        else {
          out[i].push(picked[r]);
          if (++length[r] >= m.arch.blockSize) done[r] = true;
        }
      });
      if (done.every((d) => d)) break;
      tokens = idx.map((_, r) => [done[r] ? 0 : picked[r]]);
      real = done.map((d) => [!d]);
    }
  } finally {
    cache.dispose();
  }
}

/**
 * Greedy answers as text: at most maxNew tokens each, ending at the end-of-sequence token or at the first stop
 * string (cut off, as generate() does). Single-token stop strings also end decoding early.
 */
export async function greedyAnswers(
  m: ModelView,
  tok: Tokenizer,
  prompts: number[][],
  maxNew: number,
  stop: string[],
): Promise<{ text: string; stopped: boolean }[]> {
  const stopIds = stop.flatMap((s) => {
    const ids = tok.encode(s);
    return ids.length === 1 ? ids : [];
  });
  const raw = await greedyBatch(m, prompts, maxNew, tok.eosId, stopIds);
  return raw.map((ids, i) => {
    const text = tok.decode(ids);
    const cut = Math.min(...stop.map((s) => text.indexOf(s)).filter((at) => at >= 0));
    // stopped: by the end marker or a stop string, rather than by the token budget or the context's end
    const hitBudget = ids.length >= maxNew || prompts[i].length + ids.length >= m.arch.blockSize;
    return Number.isFinite(cut) ? { text: text.slice(0, cut), stopped: true } : { text, stopped: !hitBudget };
  });
}
