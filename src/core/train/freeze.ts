// What trains: LoRA adapters only (base frozen), or full fine-tuning minus frozen parts: the embeddings,
// the lowest k blocks, any chosen blocks; gradual unfreezing (ULMFiT, Howard & Ruder 2018) opens one more
// block from the top every N epochs; layer-wise lr decay gives lower blocks smaller rates.

import type * as tf from '@tensorflow/tfjs';
import type { ModelArch, TrainConfig } from '../config';
import type { LoraSet } from '../model/lora';
import type { OptimizerParam } from './optimizer';

/**
 * Block index a parameter belongs to: -1 for embeddings (an untied Llama head counts with them, as the tied head
 * does), nLayer for the final norm. GPT-2 names blocks h.N., the Llama layout layers.N.
 */
export function blockOf(name: string, nLayer: number): number {
  const m = /^(?:h|layers)\.(\d+)\./.exec(name);
  if (m) return Number(m[1]);
  return /^(wte|wpe|embed_tokens|lm_head)\./.test(name) ? -1 : nLayer;
}

/** Blocks frozen at a (fractional) epoch under the config; gradual unfreezing starts with only the top block open. */
export function frozenBlocks(a: ModelArch, c: TrainConfig, epoch: number): Set<number> {
  const frozen = new Set<number>(c.freeze.blocks);
  for (let i = 0; i < c.freeze.lowestBlocks; i++) frozen.add(i);
  if (c.method === 'full' && c.freeze.gradualUnfreezeEvery > 0) {
    const open = 1 + Math.floor(epoch / c.freeze.gradualUnfreezeEvery);
    for (let i = 0; i < a.nLayer - open; i++) frozen.add(i);
  }
  return frozen;
}

function embeddingsFrozen(a: ModelArch, c: TrainConfig, epoch: number): boolean {
  if (c.freeze.embeddings) return true;
  // with gradual unfreezing the embeddings open last, once every block is open
  return c.method === 'full' && c.freeze.gradualUnfreezeEvery > 0 && frozenBlocks(a, c, epoch).size > 0;
}

/** lr multiplier of a block under layer-wise decay: top block 1, each lower block × decay. */
export function lrScaleOf(block: number, a: ModelArch, decay: number): number {
  return decay ** (a.nLayer - 1 - Math.min(block, a.nLayer - 1)); // embeddings (block -1) get decay^nLayer
}

/**
 * The optimizer's parameter list at this epoch. Also sets each variable's `trainable` flag, which
 * tf.variableGrads reads: frozen weights get no gradient and stay bit-identical.
 */
export function trainableParams(
  params: Record<string, tf.Variable>,
  lora: LoraSet | null,
  a: ModelArch,
  c: TrainConfig,
  epoch: number,
): OptimizerParam[] {
  const frozen = frozenBlocks(a, c, epoch);
  const decay = c.freeze.layerLrDecay;
  const out: OptimizerParam[] = [];
  for (const [name, v] of Object.entries(params)) {
    const block = blockOf(name, a.nLayer);
    const on = c.method === 'full' && (block < 0 ? !embeddingsFrozen(a, c, epoch) : !frozen.has(block));
    v.trainable = on;
    // no decay on biases, LayerNorm gains and embeddings (nanoGPT's configure_optimizers)
    if (on) out.push({ variable: v, lrScale: lrScaleOf(block, a, decay), decay: v.rank >= 2 && block >= 0 });
  }
  if (lora) {
    for (const ad of lora.adapters) {
      const on = c.method === 'lora' && !frozen.has(ad.layer);
      ad.A.trainable = on;
      ad.B.trainable = on;
      if (on)
        for (const v of [ad.A, ad.B]) out.push({ variable: v, lrScale: lrScaleOf(ad.layer, a, decay), decay: true });
    }
  }
  return out;
}
