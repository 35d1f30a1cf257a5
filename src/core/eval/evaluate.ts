// Evaluation: mean loss over a split, per-example losses (to surface mislabeled or poisoned records),
// and greedy answers (scored by exactMatch in ../rules.ts).

import * as tf from '@tensorflow/tfjs';
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

/**
 * Greedy decoding of many prompts at once. Rows are right-padded; a causal model's logits at position p ignore
 * everything after p, so each row reads its own last position. Stops a row at eosId or after maxNew tokens.
 */
export async function greedyBatch(
  m: ModelView,
  prompts: number[][],
  maxNew: number,
  eosId: number,
  stopIds: number[] = [],
): Promise<number[][]> {
  const rows = prompts.map((p) => [...p]);
  const out: number[][] = prompts.map(() => []);
  const done = prompts.map((p) => p.length >= m.arch.blockSize);
  for (let step = 0; step < maxNew && done.some((d) => !d); step++) {
    const live = rows.map((_, i) => i).filter((i) => !done[i]);
    const T = Math.max(...live.map((i) => rows[i].length));
    const ids = new Int32Array(live.length * T);
    live.forEach((i, r) => ids.set(rows[i], r * T));
    const next = tf.tidy(() => {
      const h = hiddenStates(m.params, m.arch, tf.tensor2d(ids, [live.length, T], 'int32'), {
        lora: m.lora,
        embedMode: m.embedMode,
      });
      const last = tf.gather(
        h,
        tf.tensor1d(
          live.map((i, r) => r * T + rows[i].length - 1),
          'int32',
        ),
      ); // [n, C]
      return tf.argMax(tf.matMul(last, headWeight(m.params), false, true), -1);
    });
    const picked = await next.data();
    next.dispose();
    live.forEach((i, r) => {
      const id = picked[r];
      if (id === eosId || stopIds.includes(id)) done[i] = true;
      else {
        rows[i].push(id);
        out[i].push(id);
        if (rows[i].length >= m.arch.blockSize) done[i] = true;
      }
    });
  }
  return out;
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
