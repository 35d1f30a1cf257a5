// The copy probe: does a base model read its context? Two measurements on a fixed set of probe texts
// (tests/fixtures/copy-probe.json, written by scripts/probes/copy-probe.ts --write-fixture):
//  - repeat: a random sequence of six names written twice in one line; the mean loss per character on the second
//    copy against the first. A model that copies predicts the second copy almost for free; one that does not
//    scores both copies alike (or the second worse).
//  - recall: four "name is in room N" pairs, then one question; greedy answer scored by exact match, both ways:
//    forward asks the room of a name (the answer is written after its key), backward asks who is in a room (the
//    answer is written before its key: the lookup the QA lessons need).
// scripts/probes/copy_probe.py measures the same texts with an independent PyTorch forward pass.

import * as tf from '@tensorflow/tfjs';
import { exactMatch } from '../rules';
import type { Tokenizer } from '../tokenizer/types';
import { greedyBatch, type ModelView } from './evaluate';
import { logits } from '../model/gpt';

export interface ProbeSet {
  repeat: { text: string; first: [number, number]; second: [number, number] }[]; // character spans [start, end)
  recall: { direction: 'forward' | 'backward'; prompt: string; answer: string }[];
}

export interface CopyProbe {
  firstCopy: number; // nats per character on the first copy (its first character excluded: it has no context)
  secondCopy: number; // nats per character on the second copy
  recallForward: number; // exact match, answer written after its key
  recallBackward: number; // exact match, answer written before its key
  sequences: number;
  questions: number;
}

/** Loss of every next character of one text under the model: nll[i] is the loss of predicting id i+1. */
async function charLosses(m: ModelView, ids: number[]): Promise<Float32Array> {
  const lp = tf.tidy(() => {
    const lg = logits(m.params, m.arch, tf.tensor2d(ids.slice(0, -1), [1, ids.length - 1], 'int32'), {
      lora: m.lora,
      embedMode: m.embedMode,
    });
    const logp = tf.logSoftmax(lg);
    const picked = tf.gather(
      logp.reshape([-1]),
      tf.tensor1d(
        ids.slice(1).map((id, t) => t * lg.shape[1] + id),
        'int32',
      ),
    );
    return tf.neg(picked);
  });
  const out = (await lp.data()) as Float32Array;
  lp.dispose();
  return out;
}

/** Runs the probe. A character tokenizer is assumed for the spans (one id per character), and checked. */
export async function copyProbe(m: ModelView, tok: Tokenizer, set: ProbeSet): Promise<CopyProbe> {
  let first = 0,
    nFirst = 0,
    second = 0,
    nSecond = 0;
  for (const r of set.repeat) {
    const ids = tok.encode(r.text);
    if (ids.length !== r.text.length) throw new Error('the copy probe needs a character tokenizer');
    const nll = await charLosses(m, ids);
    for (let i = r.first[0] + 1; i < r.first[1]; i++) ((first += nll[i - 1]), nFirst++);
    for (let i = r.second[0]; i < r.second[1]; i++) ((second += nll[i - 1]), nSecond++);
  }
  const answers = await greedyBatch(
    m,
    set.recall.map((q) => tok.encode(q.prompt)),
    8,
    tok.eosId,
    tok.encode('\n'),
  );
  const score = (dir: 'forward' | 'backward') => {
    const rows = set.recall.map((q, i) => [q, answers[i]] as const).filter(([q]) => q.direction === dir);
    return rows.filter(([q, a]) => exactMatch(tok.decode(a), q.answer)).length / rows.length;
  };
  return {
    firstCopy: first / nFirst,
    secondCopy: second / nSecond,
    recallForward: score('forward'),
    recallBackward: score('backward'),
    sequences: set.repeat.length,
    questions: set.recall.length,
  };
}
