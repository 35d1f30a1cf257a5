// A decoder-only transformer in the GPT-2 layout: token + learned position embeddings, pre-LayerNorm blocks,
// causal multi-head attention, tanh-GELU MLP, final LayerNorm, output head tied to the token embedding.
// Parameter names and [in, out] weight layout match Hugging Face's GPT-2, so imported checkpoints load as is.
// References: Radford et al. 2019 (GPT-2); Karpathy's nanoGPT model.py.

import * as tf from '@tensorflow/tfjs';
import type { LoraTarget, ModelArch } from '../config';
import { Rng } from '../rng';
import {
  causalAttention,
  crossEntropy,
  gatherFrozen,
  gelu,
  layerNorm,
  linear,
  matMulTFrozen,
  residual,
  rmsNorm,
  rope,
  wanted,
} from './fused';
import { llamaBlock, llamaInitialValues, llamaParamShapes } from './llama';
import type { LoraSet } from './lora';

export type Params = Record<string, tf.Tensor>;

/** Names and shapes of every base parameter, in a fixed order (the order checkpoints and optimizers use). */
export function paramShapes(a: ModelArch): [string, number[]][] {
  if (a.llama) return llamaParamShapes(a);
  const C = a.nEmbd;
  const H = a.mlpRatio * C;
  const shapes: [string, number[]][] = [
    ['wte.weight', [a.vocabSize, C]],
    ['wpe.weight', [a.blockSize, C]],
  ];
  for (let i = 0; i < a.nLayer; i++) {
    const p = `h.${i}.`;
    shapes.push(
      [p + 'ln_1.weight', [C]],
      [p + 'ln_1.bias', [C]],
      [p + 'attn.c_attn.weight', [C, 3 * C]],
      [p + 'attn.c_attn.bias', [3 * C]],
      [p + 'attn.c_proj.weight', [C, C]],
      [p + 'attn.c_proj.bias', [C]],
      [p + 'ln_2.weight', [C]],
      [p + 'ln_2.bias', [C]],
      [p + 'mlp.c_fc.weight', [C, H]],
      [p + 'mlp.c_fc.bias', [H]],
      [p + 'mlp.c_proj.weight', [H, C]],
      [p + 'mlp.c_proj.bias', [C]],
    );
  }
  shapes.push(['ln_f.weight', [C]], ['ln_f.bias', [C]]);
  return shapes;
}

export function countParams(a: ModelArch): number {
  return paramShapes(a).reduce((n, [, s]) => n + s.reduce((x, y) => x * y, 1), 0);
}

/** GPT-2 initialisation: N(0, 0.02) weights, residual projections scaled by 1/sqrt(2·nLayer), LN = (1, 0). */
export function initialValues(a: ModelArch, seed: number): Map<string, Float32Array> {
  if (a.llama) return llamaInitialValues(a, seed);
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of paramShapes(a)) {
    const n = shape.reduce((x, y) => x * y, 1);
    const data = new Float32Array(n);
    if (name.endsWith('ln_1.weight') || name.endsWith('ln_2.weight') || name === 'ln_f.weight') data.fill(1);
    else if (!name.endsWith('.bias')) {
      const std = name.endsWith('c_proj.weight') ? 0.02 / Math.sqrt(2 * a.nLayer) : 0.02;
      for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
    }
    out.set(name, data);
  }
  return out;
}

/** How the embedding lookup is done: 'gather' everywhere gathers work; 'onehot' where gather has no gradient (wasm). */
export type EmbedMode = 'gather' | 'onehot';

export interface ForwardOptions {
  lora?: LoraSet | null; // adapters to add (null: the base model alone)
  training?: boolean; // enables LoRA dropout
  dropoutSeed?: number;
  embedMode?: EmbedMode;
}

/** Embedding lookup whose gradient is a one-hot matmul: wasm has no UnsortedSegmentSum (gather's gradient). */
const gatherOneHotGrad = tf.customGrad(((table: tf.Tensor, ids: tf.Tensor, save: tf.GradSaveFunc) => {
  save([ids]);
  return {
    value: tf.gather(table, ids),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const oneHot = tf.oneHot(saved[0] as tf.Tensor1D, table.shape[0]).toFloat(); // [N, V]
      return [tf.matMul(oneHot, dy as tf.Tensor2D, true, false), tf.zerosLike(saved[0])]; // [V, C]
    },
  };
}) as never) as (table: tf.Tensor, ids: tf.Tensor) => tf.Tensor;

/**
 * How the blocks see their sequence. Training and scoring: a whole causal batch, positions 0..T-1. Decoding
 * (model/kv-cache.ts): a few new tokens per row that attend to the keys and values cached before them.
 */
export interface SequenceView {
  /**
   * Attention of block `layer`: q [N, C], k, v [N, nKv·hd] → [N, C]. With fewer k/v heads than query heads (the
   * Llama layout's grouped-query attention, read from k's width) each serves nHead/nKv query heads.
   */
  attend(layer: number, q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D): tf.Tensor2D;
  /** The Llama layout's rotary positions on q or k [N, nh*hd]. */
  rotate(x: tf.Tensor2D, nh: number, theta: number): tf.Tensor2D;
  /** The GPT-2 layout's learned positions added to the embedded tokens [N, C]. */
  addPositions(tok: tf.Tensor2D, wpe: tf.Tensor): tf.Tensor2D;
}

/** The whole causal batch [B, T]: positions 0..T-1 in every row. */
export function fullSequence(B: number, T: number, nHead: number): SequenceView {
  return {
    attend: (_layer, q, k, v) => causalAttention(q, k, v, B, T, nHead),
    rotate: (x, nh, theta) => rope(x, B, T, nh, theta),
    addPositions: (tok, wpe) => {
      const C = tok.shape[1];
      const pos = tf.slice(wpe, [0, 0], [T, C]); // [T, C]
      return tf.add(tok.reshape([B, T, C]), pos).reshape([B * T, C]) as tf.Tensor2D;
    },
  };
}

/** The LoRA update of one block: out + s·(x·A)·B for the adapter on `target` (out itself where there is none). */
export type Adapt = (target: LoraTarget, x: tf.Tensor2D, out: tf.Tensor2D) => tf.Tensor2D;

/** What the pieces of block i share: its weights' prefix, how it sees the sequence, and its LoRA adapters. */
interface Block {
  p: Params;
  h: string; // the block's parameter prefix, "h.{i}."
  layer: number;
  seq: SequenceView;
  eps: number; // LayerNorm epsilon
  adapt: Adapt;
}

/** Causal self-attention (nanoGPT's CausalSelfAttention): x [B*T, C], the block's LayerNormed input → [B*T, C]. */
function attention(x: tf.Tensor2D, b: Block): tf.Tensor2D {
  const { p, h } = b;
  const qkv = linear(x, p[h + 'attn.c_attn.weight'], p[h + 'attn.c_attn.bias']); // [B*T, 3C]
  const [q, k, v] = tf.split(qkv, 3, 1) as tf.Tensor2D[]; // each [B*T, C]
  // LoRA on q, k and v adds to its column slice of the fused projection's output
  const y = b.seq.attend(b.layer, b.adapt('q', x, q), b.adapt('k', x, k), b.adapt('v', x, v)); // [B*T, C]
  return b.adapt('o', y, linear(y, p[h + 'attn.c_proj.weight'], p[h + 'attn.c_proj.bias'])); // [B*T, C]
}

/** The MLP (nanoGPT's MLP): x [B*T, C] → up-projection [B*T, 4C] → tanh-GELU → down-projection [B*T, C]. */
function mlp(x: tf.Tensor2D, b: Block): tf.Tensor2D {
  const { p, h } = b;
  const up = gelu(b.adapt('up', x, linear(x, p[h + 'mlp.c_fc.weight'], p[h + 'mlp.c_fc.bias']))) as tf.Tensor2D; // [B*T, 4C]
  return b.adapt('down', up, linear(up, p[h + 'mlp.c_proj.weight'], p[h + 'mlp.c_proj.bias'])); // [B*T, C]
}

/** One pre-LayerNorm block (nanoGPT's Block): x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)). x [B*T, C] → [B*T, C]. */
function block(x: tf.Tensor2D, b: Block): tf.Tensor2D {
  const { p, h, eps } = b;
  const xa = residual(x, attention(layerNorm(x, p[h + 'ln_1.weight'], p[h + 'ln_1.bias'], eps), b)); // [B*T, C]
  return residual(xa, mlp(layerNorm(xa, p[h + 'ln_2.weight'], p[h + 'ln_2.bias'], eps), b)); // [B*T, C]
}

/**
 * Final hidden states for a batch of token ids. ids: [B, T] int32 → [B*T, C].
 * Call inside tf.tidy (or a gradient function): intermediates are not disposed here.
 */
export function hiddenStates(p: Params, a: ModelArch, ids: tf.Tensor2D, opt: ForwardOptions = {}): tf.Tensor2D {
  const [B, T] = ids.shape;
  if (T > a.blockSize) throw new Error(`sequence of ${T} tokens is longer than the model's context (${a.blockSize})`);
  const flat = ids.reshape([B * T]) as tf.Tensor1D;
  // a frozen table gets no gradient and needs nothing saved (tf.gather would save the whole table for backward)
  const wte = p[a.llama ? 'embed_tokens.weight' : 'wte.weight'];
  const tok = !wanted(wte)
    ? gatherFrozen(wte, flat)
    : opt.embedMode === 'onehot'
      ? gatherOneHotGrad(wte, flat)
      : tf.gather(wte, flat); // [B*T, C]
  return blocksForward(p, a, tok as tf.Tensor2D, fullSequence(B, T, a.nHead), opt);
}

/**
 * Embedded tokens [N, C] through every block and the final norm → [N, C], seeing the sequence through `seq`.
 * The one forward pass behind training, scoring and cached decoding.
 */
export function blocksForward(
  p: Params,
  a: ModelArch,
  tok: tf.Tensor2D,
  seq: SequenceView,
  opt: ForwardOptions = {},
): tf.Tensor2D {
  const lora = opt.lora ?? null;
  const adapter =
    (i: number): Adapt =>
    (target, inp, out) =>
      lora ? lora.apply(i, inp, target, out, opt.training ?? false, opt.dropoutSeed) : out;
  // One tidy per block: the tape keeps what each op saved for backward; every other intermediate is freed here
  // instead of living until the whole forward pass ends.
  if (a.llama) {
    let x = tok; // [N, C]: positions enter through the rotary q and k
    for (let i = 0; i < a.nLayer; i++) {
      const xin = x;
      x = tf.tidy(() => llamaBlock(p, a, i, xin, seq, adapter(i)));
    }
    return rmsNorm(x, p['norm.weight'], a.layerNormEps);
  }
  let x = seq.addPositions(tok, p['wpe.weight']); // [N, C]
  for (let i = 0; i < a.nLayer; i++) {
    const b: Block = { p, h: `h.${i}.`, layer: i, seq, eps: a.layerNormEps, adapt: adapter(i) };
    const xin = x;
    x = tf.tidy(() => block(xin, b));
  }
  return layerNorm(x, p['ln_f.weight'], p['ln_f.bias'], a.layerNormEps); // [N, C]
}

/** The output head [V, C]: the Llama layout's own lm_head, else the token embedding it is tied to. */
export const headWeight = (p: Params): tf.Tensor2D =>
  (p['lm_head.weight'] ?? p['embed_tokens.weight'] ?? p['wte.weight']) as tf.Tensor2D;

/** Logits from hidden states through the head: [N, C] × headᵀ → [N, V]. */
export function headLogits(p: Params, h: tf.Tensor2D): tf.Tensor2D {
  const wte = headWeight(p);
  return wanted(wte) ? tf.matMul(h, wte, false, true) : matMulTFrozen(h, wte);
}

/** Logits for every position. ids [B, T] → [B*T, V]. */
export function logits(p: Params, a: ModelArch, ids: tf.Tensor2D, opt: ForwardOptions = {}): tf.Tensor2D {
  return headLogits(p, hiddenStates(p, a, ids, opt));
}

/**
 * Mean next-token cross-entropy over positions whose weight is 1.
 * logits [N, V], targets [N] int32, weights [N] float (0/1). The one-hot form keeps the gradient free of gather.
 */
export function maskedCrossEntropy(lg: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
  return crossEntropy(lg, targets, weights);
}

/** Per-row cross-entropy (no reduction over rows): [N] — for per-example loss tables. */
export function tokenNll(lg: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(tf.logSoftmax(lg), tf.oneHot(targets, lg.shape[1]).toFloat()), -1)) as tf.Tensor1D;
}
