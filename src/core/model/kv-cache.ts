// Decoding with a key/value cache: each block's keys and values are kept as rows grow, so a new token costs one
// token's forward pass (attending to everything cached) instead of a pass over the whole context. The same blocks
// as training (model/gpt.ts blocksForward); only how attention sees the sequence differs. Rows of one batch may
// have prompts of different lengths: a row's padding slots stay in the cache but no query attends to them, and
// each row counts its own positions.

import * as tf from '@tensorflow/tfjs';
import type { ModelArch } from '../config';
import { repeatKv } from './fused';
import { blocksForward, headLogits, type ForwardOptions, type Params, type SequenceView } from './gpt';

const MASKED = -1e9; // added to the score of a slot a query may not see (exp underflows to 0; no NaN on a row)

/** cos and sin [N, hd] of rotary positions for each token (transformers' cat(freqs, freqs), float32 frequencies). */
function ropeRows(positions: number[], hd: number, theta: number): [tf.Tensor, tf.Tensor] {
  const cos = new Float32Array(positions.length * hd);
  const sin = new Float32Array(positions.length * hd);
  const half = hd / 2;
  for (let i = 0; i < half; i++) {
    const inv = Math.fround(1 / Math.pow(theta, (2 * i) / hd)); // as model/fused.ts ropeTables
    positions.forEach((p, n) => {
      const ang = Math.fround(p * inv);
      cos[n * hd + i] = cos[n * hd + i + half] = Math.cos(ang);
      sin[n * hd + i] = sin[n * hd + i + half] = Math.sin(ang);
    });
  }
  return [tf.tensor(cos, [positions.length, 1, hd]), tf.tensor(sin, [positions.length, 1, hd])];
}

/** The keys and values of every block for a batch of rows, and which cached slot each row may attend to. */
export class KvCache {
  private k: (tf.Tensor4D | null)[]; // per block [n, nh, L, hd]
  private v: (tf.Tensor4D | null)[];
  private seen: Uint8Array[]; // per row, per slot: 1 where the slot holds one of the row's tokens (not padding)
  readonly next: number[]; // per row, the position its next token takes
  length = 0; // slots cached (the same for every row)

  constructor(
    private readonly a: ModelArch,
    readonly rows: number,
  ) {
    this.k = Array.from({ length: a.nLayer }, () => null);
    this.v = Array.from({ length: a.nLayer }, () => null);
    this.seen = Array.from({ length: rows }, () => new Uint8Array(0));
    this.next = Array.from({ length: rows }, () => 0);
  }

  /** Bytes a cache of `rows` rows holding `slots` slots takes (keys and values of every block, float32). */
  static bytes(a: ModelArch, rows: number, slots: number): number {
    return rows * slots * a.nLayer * 2 * a.nEmbd * 4;
  }

  /**
   * Runs `t` new tokens per row through the model, appending their keys and values. tokens [rows][t]; real[r][j]
   * false marks padding (it takes a slot no later query sees, and no position). Returns the final hidden states of
   * the new tokens, [rows*t, C], row-major. Call inside tf.tidy; the cache keeps its own tensors.
   */
  forward(p: Params, tokens: number[][], real: boolean[][], opt: ForwardOptions = {}): tf.Tensor2D {
    const a = this.a;
    const n = this.rows;
    const t = tokens[0].length;
    if (tokens.length !== n || tokens.some((r) => r.length !== t)) throw new Error('KvCache.forward: ragged batch');
    const L0 = this.length;
    const L = L0 + t;
    // positions: each row's real tokens continue its own count; padding borrows the last one (never seen)
    const positions: number[] = [];
    for (let r = 0; r < n; r++) {
      let at = this.next[r];
      for (let j = 0; j < t; j++) {
        positions.push(Math.min(at, a.blockSize - 1));
        if (real[r][j]) at++;
      }
      this.next[r] = at;
    }
    if (this.next.some((q) => q > a.blockSize))
      throw new Error(`a row is longer than the model's context (${a.blockSize} tokens)`);
    // which slots each new query sees: the row's real cached slots, and its real new ones up to itself
    this.seen = this.seen.map((s, r) => {
      const grown = new Uint8Array(L);
      grown.set(s);
      for (let j = 0; j < t; j++) grown[L0 + j] = real[r][j] ? 1 : 0;
      return grown;
    });
    const mask = new Float32Array(n * t * L).fill(MASKED);
    for (let r = 0; r < n; r++)
      for (let j = 0; j < t; j++) for (let s = 0; s <= L0 + j; s++) if (this.seen[r][s]) mask[(r * t + j) * L + s] = 0;
    const maskT = tf.tensor4d(mask, [n, 1, t, L]);
    const C = a.nEmbd;
    const nh = a.nHead;
    const hd = C / nh;
    const heads = (x: tf.Tensor2D) => x.reshape([n, t, nh, hd]).transpose([0, 2, 1, 3]) as tf.Tensor4D; // [n, nh, t, hd]
    const seq: SequenceView = {
      attend: (layer, q, k0, v0) => {
        // the cache keeps every query head's keys and values (k/v heads repeated for grouped-query attention)
        const nKv = k0.shape[1] / hd;
        const [k, v] = [k0, v0].map((x) => repeatKv(x, nKv, nh / nKv));
        const grow = (old: tf.Tensor4D | null, x: tf.Tensor2D) => {
          const all = tf.keep(old ? (tf.concat([old, heads(x)], 2) as tf.Tensor4D) : heads(x)); // [n, nh, L, hd]
          old?.dispose();
          return all;
        };
        const K = (this.k[layer] = grow(this.k[layer], k));
        const V = (this.v[layer] = grow(this.v[layer], v));
        const qh = tf.mul(heads(q), 1 / Math.sqrt(hd)).reshape([n * nh, t, hd]) as tf.Tensor3D;
        const scores = tf.matMul(qh, K.reshape([n * nh, L, hd]) as tf.Tensor3D, false, true).reshape([n, nh, t, L]);
        const probs = tf.softmax(tf.add(scores, maskT)).reshape([n * nh, t, L]) as tf.Tensor3D;
        const y = tf.matMul(probs, V.reshape([n * nh, L, hd]) as tf.Tensor3D); // [n*nh, t, hd]
        return y
          .reshape([n, nh, t, hd])
          .transpose([0, 2, 1, 3])
          .reshape([n * t, C]) as tf.Tensor2D;
      },
      rotate: (x, heads_, theta) => {
        const d = x.shape[1] / heads_;
        const [cos, sin] = ropeRows(positions, d, theta);
        const x3 = x.reshape([n * t, heads_, d]);
        const [x1, x2] = tf.split(x3, 2, -1);
        const rot = tf.concat([tf.neg(x2), x1], -1);
        return tf.add(tf.mul(x3, cos), tf.mul(rot, sin)).reshape(x.shape) as tf.Tensor2D;
      },
      addPositions: (tok, wpe) => tf.add(tok, tf.gather(wpe, tf.tensor1d(positions, 'int32'))) as tf.Tensor2D,
    };
    const table = p[a.llama ? 'embed_tokens.weight' : 'wte.weight'];
    const tok = tf.gather(table, tf.tensor1d(tokens.flat(), 'int32')) as tf.Tensor2D; // [n*t, C]
    const h = blocksForward(p, a, tok, seq, opt);
    this.length = L;
    return h;
  }

  dispose(): void {
    for (const x of [...this.k, ...this.v]) x?.dispose();
    this.k.fill(null);
    this.v.fill(null);
  }
}

/** Logits [rows, V] at each row's last real new token, from KvCache.forward's hidden states. */
export function lastLogits(p: Params, h: tf.Tensor2D, real: boolean[][]): tf.Tensor2D {
  const t = real[0].length;
  const at = real.map((row, r) => r * t + Math.max(0, row.lastIndexOf(true)));
  return headLogits(p, tf.gather(h, tf.tensor1d(at, 'int32')) as tf.Tensor2D);
}
