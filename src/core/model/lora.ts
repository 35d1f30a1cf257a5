// LoRA adapters (Hu et al. 2021): a frozen weight W [in, out] gains a trainable low-rank update s·A·B with
// A [in, r] random and B [r, out] zero, so a fresh adapter changes nothing. Scaling s = alpha/r, or alpha/sqrt(r)
// with rsLoRA (Kalajdzievski 2023). One deltaWeight() serves merge and unmerge, as in PEFT's lora/layer.py.

import * as tf from '@tensorflow/tfjs';
import type { LoraConfig, LoraTarget, ModelArch } from '../config';
import { Rng } from '../rng';
import { loraScale } from '../rules';
import { loraAdd } from './fused';
import type { Params } from './gpt';
import { LLAMA_PROJ, llamaProjDims } from './llama';

let uid = 0;

/** One dropout seed per adapter from the forward pass's seed: distinct for every adapter of a set (up to 1024). */
export const adapterSeed = (seed: number, index: number) => seed * 1024 + index;

/**
 * Where each target sits: base weight name (per block), input width, output column span. In GPT-2's layout q, k and
 * v are column slices of the fused c_attn; in the Llama layout every target is a weight of its own.
 */
export function targetSlot(
  a: ModelArch,
  target: LoraTarget,
): { weight: string; inDim: number; outDim: number; colOffset: number; colTotal: number } {
  if (a.llama) {
    const [inDim, outDim] = llamaProjDims(a, target);
    return { weight: `${LLAMA_PROJ[target]}.weight`, inDim, outDim, colOffset: 0, colTotal: outDim };
  }
  const C = a.nEmbd;
  const H = a.mlpRatio * C;
  switch (target) {
    case 'q':
      return { weight: 'attn.c_attn.weight', inDim: C, outDim: C, colOffset: 0, colTotal: 3 * C };
    case 'k':
      return { weight: 'attn.c_attn.weight', inDim: C, outDim: C, colOffset: C, colTotal: 3 * C };
    case 'v':
      return { weight: 'attn.c_attn.weight', inDim: C, outDim: C, colOffset: 2 * C, colTotal: 3 * C };
    case 'o':
      return { weight: 'attn.c_proj.weight', inDim: C, outDim: C, colOffset: 0, colTotal: C };
    case 'up':
      return { weight: 'mlp.c_fc.weight', inDim: C, outDim: H, colOffset: 0, colTotal: H };
    case 'down':
      return { weight: 'mlp.c_proj.weight', inDim: H, outDim: C, colOffset: 0, colTotal: C };
    case 'gate':
      throw new Error('LoRA target gate: a GPT-2 model has no gate projection (the Llama layout has)');
  }
}

export interface Adapter {
  layer: number;
  target: LoraTarget;
  A: tf.Variable; // [in, r]
  B: tf.Variable; // [r, out]
}

export class LoraSet {
  readonly adapters: Adapter[] = [];
  private readonly byKey = new Map<string, Adapter>();
  readonly scale: number;
  merged = false;

  /** Builds adapters for `layers` × cfg.targets. A ~ U(-1/√in, 1/√in) (PEFT's kaiming-uniform bound), B = 0. */
  constructor(
    readonly arch: ModelArch,
    readonly cfg: LoraConfig,
    seed: number,
    layers: number[] = [...Array(arch.nLayer).keys()],
  ) {
    this.scale = loraScale(cfg);
    const rng = new Rng(seed);
    const id = uid++;
    for (const layer of layers) {
      for (const target of cfg.targets) {
        const { inDim, outDim } = targetSlot(arch, target);
        const bound = 1 / Math.sqrt(inDim);
        const a = new Float32Array(inDim * cfg.rank).map(() => (rng.next() * 2 - 1) * bound);
        // tf.variable keeps its initial tensor alive beside itself: tidy frees those, the variables stay
        const ad: Adapter = tf.tidy(() => ({
          layer,
          target,
          A: tf.variable(tf.tensor2d(a, [inDim, cfg.rank]), true, `lora${id}.h.${layer}.${target}.A`),
          B: tf.variable(tf.zeros([cfg.rank, outDim]), true, `lora${id}.h.${layer}.${target}.B`),
        }));
        this.adapters.push(ad);
        this.byKey.set(`${layer}.${target}`, ad);
      }
    }
  }

  get(layer: number, target: LoraTarget): Adapter | undefined {
    return this.byKey.get(`${layer}.${target}`);
  }

  variables(): tf.Variable[] {
    return this.adapters.flatMap((a) => [a.A, a.B]);
  }

  /**
   * out + s·((dropout(x)·A)·B). x [N, in], out [N, out]. Returns out unchanged where no adapter (or merged).
   * `seed` is the forward pass's; each adapter draws its own mask from it (PEFT gives each adapter its own
   * nn.Dropout), so q, k and v, which read the same x, do not drop the same features.
   */
  apply(
    layer: number,
    x: tf.Tensor2D,
    target: LoraTarget,
    out: tf.Tensor2D,
    training: boolean,
    seed?: number,
  ): tf.Tensor2D {
    const ad = this.merged ? undefined : this.get(layer, target);
    if (!ad) return out;
    const xin =
      training && this.cfg.dropout > 0
        ? tf.dropout(
            x,
            this.cfg.dropout,
            undefined,
            seed === undefined ? undefined : adapterSeed(seed, this.adapters.indexOf(ad)),
          )
        : x;
    return loraAdd(out, xin as tf.Tensor2D, ad.A, ad.B, this.scale);
  }

  /** ΔW = s·A·B, [in, out]: the one function behind merge and unmerge. */
  deltaWeight(ad: Adapter): tf.Tensor2D {
    return tf.tidy(() => tf.mul(tf.matMul(ad.A as tf.Tensor2D, ad.B as tf.Tensor2D), this.scale));
  }

  /** The base weight an adapter folds into, and its ΔW padded to that weight's columns ([in, colTotal]). */
  private folded(params: Params, ad: Adapter): { name: string; w: tf.Variable; delta: () => tf.Tensor } {
    const slot = targetSlot(this.arch, ad.target);
    const name = `${this.arch.llama ? 'layers' : 'h'}.${ad.layer}.${slot.weight}`;
    return {
      name,
      w: params[name] as tf.Variable,
      delta: () =>
        tf.pad(this.deltaWeight(ad), [
          [0, 0],
          [slot.colOffset, slot.colTotal - slot.colOffset - slot.outDim],
        ]),
    };
  }

  /**
   * Folds the adapters into the base weights: afterwards forward passes skip the adapter path. As PEFT's
   * safe_merge, the merged weights are computed on copies and checked first: if any is not finite (a broken
   * adapter), it throws naming the adapter and leaves every base weight as it was.
   */
  async merge(params: Params): Promise<void> {
    if (this.merged) throw new Error('LoRA adapters are already merged');
    const merged = new Map<string, tf.Tensor>(); // weight name → its value with the adapters so far folded in
    try {
      for (const ad of this.adapters) {
        const { name, w, delta } = this.folded(params, ad);
        const prev = merged.get(name);
        merged.set(
          name,
          tf.tidy(() => tf.add(prev ?? w, delta())),
        );
        prev?.dispose();
        const check = tf.tidy(() => tf.all(tf.isFinite(merged.get(name)!)));
        const [finite] = await check.data();
        check.dispose();
        if (!finite) {
          throw new Error(
            `LoRA adapter ${ad.target} of block ${ad.layer} would make ${name} non-finite (NaN or Infinity): the adapter is broken (did its run diverge?), so nothing was merged`,
          );
        }
      }
      for (const [name, value] of merged) (params[name] as tf.Variable).assign(value);
    } finally {
      tf.dispose([...merged.values()]);
    }
    this.merged = true;
  }

  /** Subtracts the adapters from the base weights again (restores them up to float rounding). */
  unmerge(params: Params) {
    if (!this.merged) throw new Error('LoRA adapters are not merged');
    for (const ad of this.adapters) {
      const { w, delta } = this.folded(params, ad);
      tf.tidy(() => w.assign(tf.sub(w, delta())));
    }
    this.merged = false;
  }

  countParams(): number {
    return this.adapters.reduce((n, a) => n + a.A.size + a.B.size, 0);
  }

  dispose() {
    for (const v of this.variables()) v.dispose();
  }
}
