// The Llama layout (Llama 2/3, Qwen2, Mistral, SmolLM): token embedding without a position table, pre-RMSNorm
// blocks, rotary positions on q and k, grouped-query attention, a SwiGLU MLP, a final RMSNorm, and an output head
// tied to the embedding or its own. Names are transformers' LlamaForCausalLM names without the "model." prefix;
// projection weights are stored [in, out] like GPT-2's (transformers' nn.Linear keeps [out, in]: the importer
// transposes). lm_head is [V, C] like the embedding it may be tied to.
// References: Touvron et al. 2023 (Llama); transformers' modeling_llama.py and modeling_qwen2.py.

import * as tf from '@tensorflow/tfjs';
import type { LlamaArch, LoraTarget, ModelArch } from '../config';
import { Rng } from '../rng';
import { linear, residual, rmsNorm, swiglu } from './fused';
import type { Adapt, Params, SequenceView } from './gpt';

/** The q/k/v/o, gate/up/down weight of each LoRA target, under a block's prefix "layers.{i}.". */
export const LLAMA_PROJ: Record<LoraTarget, string> = {
  q: 'self_attn.q_proj',
  k: 'self_attn.k_proj',
  v: 'self_attn.v_proj',
  o: 'self_attn.o_proj',
  gate: 'mlp.gate_proj',
  up: 'mlp.up_proj',
  down: 'mlp.down_proj',
};

const headDim = (a: ModelArch) => a.nEmbd / a.nHead;

/** Input and output width of a target's projection. */
export function llamaProjDims(a: ModelArch, target: LoraTarget): [number, number] {
  const C = a.nEmbd;
  const L = a.llama as LlamaArch;
  const kv = headDim(a) * L.nKvHead;
  const I = L.intermediateSize;
  const dims: Record<LoraTarget, [number, number]> = {
    q: [C, C],
    k: [C, kv],
    v: [C, kv],
    o: [C, C],
    gate: [C, I],
    up: [C, I],
    down: [I, C],
  };
  return dims[target];
}

export function llamaParamShapes(a: ModelArch): [string, number[]][] {
  const C = a.nEmbd;
  const L = a.llama as LlamaArch;
  const shapes: [string, number[]][] = [['embed_tokens.weight', [a.vocabSize, C]]];
  for (let i = 0; i < a.nLayer; i++) {
    const p = `layers.${i}.`;
    shapes.push([p + 'input_layernorm.weight', [C]]);
    for (const t of ['q', 'k', 'v', 'o'] as const) {
      const [inD, outD] = llamaProjDims(a, t);
      shapes.push([`${p}${LLAMA_PROJ[t]}.weight`, [inD, outD]]);
      if (L.qkvBias && t !== 'o') shapes.push([`${p}${LLAMA_PROJ[t]}.bias`, [outD]]);
    }
    shapes.push([p + 'post_attention_layernorm.weight', [C]]);
    for (const t of ['gate', 'up', 'down'] as const) shapes.push([`${p}${LLAMA_PROJ[t]}.weight`, llamaProjDims(a, t)]);
  }
  shapes.push(['norm.weight', [C]]);
  if (!L.tiedHead) shapes.push(['lm_head.weight', [a.vocabSize, C]]);
  return shapes;
}

/** N(0, 0.02) weights (transformers' initializer_range), o/down scaled by 1/sqrt(2·nLayer) as GPT-2's, norms 1. */
export function llamaInitialValues(a: ModelArch, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of llamaParamShapes(a)) {
    const n = shape.reduce((x, y) => x * y, 1);
    const data = new Float32Array(n);
    if (name.endsWith('norm.weight')) data.fill(1);
    else if (!name.endsWith('.bias')) {
      const resid = name.endsWith('o_proj.weight') || name.endsWith('down_proj.weight');
      const std = resid ? 0.02 / Math.sqrt(2 * a.nLayer) : 0.02;
      for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
    }
    out.set(name, data);
  }
  return out;
}

/** One Llama block: x = x + o(attn(rope(q), rope(k), v)) over norm(x); x = x + down(silu(gate)·up) over norm(x). */
export function llamaBlock(p: Params, a: ModelArch, i: number, x: tf.Tensor2D, seq: SequenceView, adapt: Adapt) {
  const L = a.llama as LlamaArch;
  const h = `layers.${i}.`;
  const proj = (t: LoraTarget, inp: tf.Tensor2D) =>
    adapt(t, inp, linear(inp, p[`${h}${LLAMA_PROJ[t]}.weight`], p[`${h}${LLAMA_PROJ[t]}.bias`] ?? null));
  const xn = rmsNorm(x, p[h + 'input_layernorm.weight'], a.layerNormEps); // [B*T, C]
  const q = seq.rotate(proj('q', xn), a.nHead, L.ropeTheta); // [N, C]
  const k = seq.rotate(proj('k', xn), L.nKvHead, L.ropeTheta); // [N, nKv·hd]: grouped-query attention reads it
  const v = proj('v', xn); // [N, nKv·hd]                          in place (causalAttention), no repeated copy
  const y = seq.attend(i, q, k, v); // [N, C]
  const xa = residual(x, proj('o', y));
  const xm = rmsNorm(xa, p[h + 'post_attention_layernorm.weight'], a.layerNormEps);
  return residual(xa, proj('down', swiglu(proj('gate', xm), proj('up', xm))));
}
