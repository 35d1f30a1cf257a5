// LoRA adapters as Hugging Face PEFT files (adapter_config.json + adapter_model.safetensors) for GPT-2, both
// ways, and the merged model as a Hugging Face GPT-2 folder. PEFT's convention (peft/tuners/lora/layer.py):
// lora_A.weight [r, in], lora_B.weight [out, r], ΔW = scaling · B·A, transposed to Conv1D's [in, out] because
// GPT-2 sets fan_in_fan_out; scaling = lora_alpha / r (or / √r with use_rslora), per module via
// rank_pattern / alpha_pattern. Ours: A [in, r], B [r, out], ΔW = s · A·B, so A_peft = Aᵀ and B_peft = Bᵀ.
//
// q, k and v are column slices of GPT-2's fused c_attn [C, 3C]; PEFT can only adapt c_attn as a whole. With
// n of q/k/v targeted at rank r, each layer exports ONE c_attn adapter of rank r' = n·r that is exactly the sum
// of ours:
//   A' = [A_t1 | A_t2 | ...]                 [C, n·r]   (our layout; PEFT stores A'ᵀ [n·r, C])
//   B' = block rows: group g (rows g·r .. g·r+r-1) holds B_tg in the columns of tg's slice (q: 0..C-1,
//        k: C..2C-1, v: 2C..3C-1) and zeros elsewhere        [n·r, 3C]   (PEFT stores B'ᵀ [3C, n·r])
//   so A'·B' = [A_q·B_q | A_k·B_k | A_v·B_v] with a zero slice for an untargeted projection.
// PEFT scales c_attn by alpha'/r'; rank_pattern {c_attn: n·r} and alpha_pattern {c_attn: n·alpha} (rsLoRA:
// alpha·√n) make alpha'/r' equal our alpha/r (rsLoRA: alpha'/√r' = alpha/√r). o → attn.c_proj, up → mlp.c_fc,
// down → mlp.c_proj keep rank r and lora_alpha. Importing reverses this: the rank components of a c_attn
// adapter (rows of B', columns of PEFT's lora_B) that are non-zero in a projection's slice become that
// projection's adapter (a slice that is all zero gets none: it changes nothing); adapters of different ranks
// are padded with zeros to one rank and their B rescaled to one scale, so any GPT-2 PEFT LoRA on these modules
// is represented exactly (dropout aside: PEFT draws one dropout mask for c_attn, we draw one per projection).

import * as tf from '@tensorflow/tfjs';
import { AssetError } from '../assets';
import {
  LLAMA_LORA_TARGETS,
  LORA_TARGETS,
  loraTargetsOf,
  type LoraConfig,
  type LoraTarget,
  type ModelArch,
} from '../config';
import { LLAMA_PROJ } from '../model/llama';
import { LoraSet, targetSlot } from '../model/lora';
import { loraScale } from '../rules';
import type { GPTModel } from '../model/model';
import { readSafetensors, writeSafetensors, SafetensorsError, type Dtype } from '../model/safetensors';
import { exportHfGpt2, type HfFiles } from './hf-gpt2';
import { exportHfLlama } from './hf-llama';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

/** GPT-2 module of each target, and its name in target_modules (matched by PEFT as a name suffix: plain "c_proj" would also catch the other c_proj). */
const MODULE: Record<Gpt2Target, string> = {
  q: 'attn.c_attn',
  k: 'attn.c_attn',
  v: 'attn.c_attn',
  o: 'attn.c_proj',
  up: 'mlp.c_fc',
  down: 'mlp.c_proj',
};
const TARGET_MODULE: Record<Gpt2Target, string> = {
  q: 'c_attn',
  k: 'c_attn',
  v: 'c_attn',
  o: 'attn.c_proj',
  up: 'c_fc',
  down: 'mlp.c_proj',
};

type Gpt2Target = Exclude<LoraTarget, 'gate'>;

/** PEFT target_modules for our targets, in a fixed order (the Llama layout's are its projections' own names). */
export function peftTargetModules(targets: readonly LoraTarget[], llama = false): string[] {
  if (llama) return LLAMA_LORA_TARGETS.filter((t) => targets.includes(t)).map((t) => LLAMA_PROJ[t].split('.')[1]);
  return [...new Set(LORA_TARGETS.filter((t) => targets.includes(t)).map((t) => TARGET_MODULE[t as Gpt2Target]))];
}
const QKV: LoraTarget[] = ['q', 'k', 'v'];
const SINGLE: Gpt2Target[] = ['o', 'up', 'down'];

/** The fields of PEFT's LoraConfig that this exporter writes (PEFT fills the rest with its defaults). */
export interface PeftLoraConfig {
  alpha_pattern: Record<string, number>;
  base_model_name_or_path: string;
  bias: 'none';
  fan_in_fan_out: boolean;
  inference_mode: boolean;
  init_lora_weights: boolean;
  layers_pattern: string | null;
  layers_to_transform: number[] | null;
  lora_alpha: number;
  lora_dropout: number;
  modules_to_save: null;
  peft_type: 'LORA';
  r: number;
  rank_pattern: Record<string, number>;
  revision: null;
  target_modules: string[];
  task_type: 'CAUSAL_LM';
  use_dora: false;
  use_rslora: boolean;
}

export const peftTensorName = (layer: number, module: string, which: 'A' | 'B') =>
  `base_model.model.transformer.h.${layer}.${module}.lora_${which}.weight`;
/** The Llama layout's names, as PeftModel over LlamaForCausalLM saves them (module: "self_attn.q_proj", ...). */
export const peftLlamaTensorName = (layer: number, module: string, which: 'A' | 'B') =>
  `base_model.model.model.layers.${layer}.${module}.lora_${which}.weight`;

/** Row-major [rows, cols] → [cols, rows]. */
function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j];
  return out;
}

const layersOf = (lora: LoraSet) => [...new Set(lora.adapters.map((a) => a.layer))].sort((a, b) => a - b);

/** adapter_config.json for a LoraSet (see the top of this file for how q/k/v become one c_attn adapter). */
export function peftConfigOf(lora: LoraSet, baseModel: string): PeftLoraConfig {
  const { rank: r, alpha, rsLora } = lora.cfg;
  const llama = lora.arch.llama !== undefined; // one adapter per projection: no c_attn stacking
  const n = llama ? 0 : QKV.filter((t) => lora.cfg.targets.includes(t)).length;
  const layers = layersOf(lora);
  const subset = layers.length < lora.arch.nLayer;
  return {
    alpha_pattern: n > 1 ? { c_attn: rsLora ? alpha * Math.sqrt(n) : alpha * n } : {},
    base_model_name_or_path: baseModel,
    bias: 'none',
    fan_in_fan_out: !llama, // GPT-2's Conv1D stores [in, out]; nn.Linear [out, in]
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: subset ? (llama ? 'layers' : 'h') : null,
    layers_to_transform: subset ? layers : null,
    lora_alpha: alpha,
    lora_dropout: lora.cfg.dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r,
    rank_pattern: n > 1 ? { c_attn: n * r } : {},
    revision: null,
    target_modules: peftTargetModules(lora.cfg.targets, llama),
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: rsLora,
  };
}

/** A LoraSet as PEFT adapter files for the GPT-2 model `baseModel` (a Hugging Face id or path). */
export async function exportPeftAdapter(
  lora: LoraSet,
  opts: { baseModel: string; dtype?: Dtype },
): Promise<{ 'adapter_config.json': string; 'adapter_model.safetensors': Uint8Array }> {
  const { arch } = lora;
  const r = lora.cfg.rank;
  const C = arch.nEmbd;
  const qkv = QKV.filter((t) => lora.cfg.targets.includes(t));
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const read = async (v: tf.Variable) => (await v.data()) as Float32Array;
  // the Llama layout: each adapter as it is, transposed to nn.Linear's [r, in] and [out, r]
  for (const ad of arch.llama ? lora.adapters : []) {
    const { inDim, outDim } = targetSlot(arch, ad.target);
    const module = LLAMA_PROJ[ad.target];
    tensors.set(peftLlamaTensorName(ad.layer, module, 'A'), {
      shape: [r, inDim],
      data: transpose(await read(ad.A), inDim, r),
    });
    tensors.set(peftLlamaTensorName(ad.layer, module, 'B'), {
      shape: [outDim, r],
      data: transpose(await read(ad.B), r, outDim),
    });
  }
  for (const layer of arch.llama ? [] : layersOf(lora)) {
    if (qkv.length > 0) {
      const rr = qkv.length * r;
      const A = new Float32Array(rr * C); // PEFT [r', C]
      const B = new Float32Array(3 * C * rr); // PEFT [3C, r']
      for (const [g, t] of qkv.entries()) {
        const ad = lora.get(layer, t)!;
        const a = await read(ad.A); // [C, r]
        const b = await read(ad.B); // [r, C]
        const col = targetSlot(arch, t).colOffset;
        for (let j = 0; j < r; j++) for (let i = 0; i < C; i++) A[(g * r + j) * C + i] = a[i * r + j];
        for (let j = 0; j < r; j++) for (let o = 0; o < C; o++) B[(col + o) * rr + g * r + j] = b[j * C + o];
      }
      tensors.set(peftTensorName(layer, 'attn.c_attn', 'A'), { shape: [rr, C], data: A });
      tensors.set(peftTensorName(layer, 'attn.c_attn', 'B'), { shape: [3 * C, rr], data: B });
    }
    for (const t of SINGLE) {
      const ad = lora.get(layer, t);
      if (!ad) continue;
      const { inDim, outDim } = targetSlot(arch, t);
      tensors.set(peftTensorName(layer, MODULE[t], 'A'), {
        shape: [r, inDim],
        data: transpose(await read(ad.A), inDim, r),
      });
      tensors.set(peftTensorName(layer, MODULE[t], 'B'), {
        shape: [outDim, r],
        data: transpose(await read(ad.B), r, outDim),
      });
    }
  }
  return {
    'adapter_config.json': JSON.stringify(peftConfigOf(lora, opts.baseModel), null, 2) + '\n',
    'adapter_model.safetensors': writeSafetensors(tensors, { dtype: opts.dtype, metadata: { format: 'pt' } }),
  };
}

// ---- import ---------------------------------------------------------------------------------------------

const TENSOR =
  /^base_model\.model\.(?:transformer\.)?h\.(\d+)\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.lora_([AB])(?:\.default)?\.weight$/;

/** PEFT's get_pattern_key: the first pattern key that matches the end of the module name. */
function patternValue(pattern: unknown, module: string): number | undefined {
  if (typeof pattern !== 'object' || pattern === null) return undefined;
  for (const [key, value] of Object.entries(pattern))
    if (new RegExp(`^(.*\\.)?${key}$`).test(module) && typeof value === 'number') return value;
  return undefined;
}

interface Piece {
  layer: number;
  target: LoraTarget;
  A: Float32Array; // ours, [in, k]
  B: Float32Array; // ours, [k, out]
  rank: number; // k
  scale: number; // PEFT's scaling for the module it came from
}

/** adapter_config.json, checked: the fields the import needs, and refusals for what PEFT can express but we cannot. */
function adapterConfig(files: HfFiles) {
  const cfgText = files[ADAPTER_CONFIG];
  if (cfgText === undefined)
    throw new AssetError(
      ADAPTER_CONFIG,
      'is missing: a PEFT adapter is adapter_config.json + adapter_model.safetensors',
    );
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(typeof cfgText === 'string' ? cfgText : new TextDecoder().decode(cfgText));
  } catch (e) {
    throw new AssetError(ADAPTER_CONFIG, `is not valid JSON (${(e as Error).message})`);
  }
  const fail = (msg: string) => new AssetError(ADAPTER_CONFIG, msg);
  if (c.peft_type !== 'LORA')
    throw fail(`peft_type ${JSON.stringify(c.peft_type)} is not supported: only LORA adapters`);
  if ((c.bias ?? 'none') !== 'none')
    throw fail(`bias ${JSON.stringify(c.bias)} is not supported: only adapters without trained biases ("none")`);
  if (c.use_dora)
    throw fail('use_dora = true is not supported: DoRA adds a magnitude vector this engine does not have');
  if (Array.isArray(c.modules_to_save) && c.modules_to_save.length > 0)
    throw fail(
      `modules_to_save ${JSON.stringify(c.modules_to_save)} is not supported: only LoRA matrices are imported`,
    );
  if (c.layer_replication) throw fail('layer_replication is not supported');
  const r = c.r as number;
  const alpha = (c.lora_alpha ?? 8) as number;
  const rsLora = c.use_rslora === true;
  if (!Number.isInteger(r) || r < 1 || !(alpha > 0))
    throw fail(
      `r = ${JSON.stringify(c.r)} and lora_alpha = ${JSON.stringify(c.lora_alpha)} are not valid: a positive integer rank and a positive alpha`,
    );
  const scaleOf = (rank: number, a: number) => loraScale({ rank, alpha: a, rsLora }); // rules.ts: the one LoRA scale
  /** A module's rank and PEFT scaling from r, lora_alpha and their per-module patterns. */
  const moduleRule = (where: string) => {
    const rank = patternValue(c.rank_pattern, where) ?? r;
    return { rank, scale: scaleOf(rank, patternValue(c.alpha_pattern, where) ?? alpha) };
  };
  return { c, r, alpha, rsLora, scaleOf, moduleRule };
}

type Matrix = { shape: number[]; data: Float32Array };
type Module = { layer: number; module: string; A?: Matrix; B?: Matrix };

/** The adapter's lora_A / lora_B tensors paired per module; names must match `pattern` (layer, module, A|B). */
function adapterModules(files: HfFiles, arch: ModelArch, pattern: RegExp, what: string): Module[] {
  const weights = files[ADAPTER_WEIGHTS];
  if (weights === undefined || typeof weights === 'string')
    throw new AssetError(ADAPTER_WEIGHTS, 'is missing (adapter_model.bin cannot be read safely in a browser)');
  let st;
  try {
    st = readSafetensors(weights, ADAPTER_WEIGHTS).tensors;
  } catch (e) {
    if (e instanceof SafetensorsError)
      throw new AssetError(ADAPTER_WEIGHTS, e.message.replace(`${ADAPTER_WEIGHTS}: `, ''));
    throw e;
  }
  const modules = new Map<string, Module>();
  for (const [name, t] of st) {
    const m = pattern.exec(name);
    if (!m)
      throw new AssetError(ADAPTER_WEIGHTS, `tensor "${name}" is not a LoRA matrix of ${what}: it cannot be imported`);
    const layer = Number(m[1]);
    if (layer >= arch.nLayer)
      throw new AssetError(
        ADAPTER_WEIGHTS,
        `tensor "${name}" is for block ${layer}, but the model has ${arch.nLayer} blocks: the adapter was made for another base model`,
      );
    const key = `${layer}.${m[2]}`;
    const entry = modules.get(key) ?? { layer, module: m[2] };
    entry[m[3] as 'A' | 'B'] = t;
    modules.set(key, entry);
  }
  return [...modules.values()];
}

/** Both matrices of a module, with PEFT's shapes [rank, in] and [out, rank], as ours: A [in, rank], B [rank, out]. */
function moduleMatrices(m: Module, where: string, tensorName: string, rank: number, inDim: number, outDim: number) {
  const { A, B } = m;
  if (!A || !B)
    throw new AssetError(ADAPTER_WEIGHTS, `${where} has lora_${A ? 'A' : 'B'} but no lora_${A ? 'B' : 'A'}`);
  for (const [which, t, want] of [
    ['A', A, [rank, inDim]],
    ['B', B, [outDim, rank]],
  ] as const) {
    if (t.shape.length !== 2 || t.shape[0] !== want[0] || t.shape[1] !== want[1]) {
      throw new AssetError(
        ADAPTER_WEIGHTS,
        `tensor "${tensorName.replace('lora_A', `lora_${which}`)}" has shape [${t.shape}] but rank ${rank} on this model needs [${want}]`,
      );
    }
  }
  return { a: transpose(A.data, rank, inDim), b: transpose(B.data, outDim, rank) };
}

/** GPT-2: c_attn's rank components split back into q, k and v (see the top of this file); the rest one to one. */
function gpt2Pieces(
  files: HfFiles,
  arch: ModelArch,
  rule: (where: string) => { rank: number; scale: number },
): Piece[] {
  const C = arch.nEmbd;
  const pieces: Piece[] = [];
  for (const m of adapterModules(files, arch, TENSOR, "a GPT-2 block's c_attn, attn.c_proj, mlp.c_fc or mlp.c_proj")) {
    const { layer, module } = m;
    const where = `transformer.h.${layer}.${module}`;
    const { rank, scale } = rule(where);
    const targets = module === 'attn.c_attn' ? QKV : SINGLE.filter((t) => MODULE[t] === module);
    const { inDim } = targetSlot(arch, targets[0]);
    const outDim = module === 'attn.c_attn' ? 3 * C : targetSlot(arch, targets[0]).outDim;
    const { a, b } = moduleMatrices(m, where, peftTensorName(layer, module, 'A'), rank, inDim, outDim);
    for (const target of targets) {
      const { colOffset, outDim: w } = targetSlot(arch, target);
      // rank components whose B is non-zero in this target's slice (all of them for o, up, down)
      const cols = [...Array(rank).keys()].filter(
        (j) =>
          module !== 'attn.c_attn' ||
          b.subarray(j * outDim + colOffset, j * outDim + colOffset + w).some((x) => x !== 0),
      );
      if (cols.length === 0) continue;
      const k = cols.length;
      const pa = new Float32Array(inDim * k);
      const pb = new Float32Array(k * w);
      cols.forEach((j, q) => {
        for (let i = 0; i < inDim; i++) pa[i * k + q] = a[i * rank + j];
        pb.set(b.subarray(j * outDim + colOffset, j * outDim + colOffset + w), q * w);
      });
      pieces.push({ layer, target, A: pa, B: pb, rank: k, scale });
    }
  }
  return pieces;
}

const LLAMA_TENSOR =
  /^base_model\.model\.(?:model\.)?layers\.(\d+)\.(self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)\.lora_([AB])(?:\.default)?\.weight$/;

/** The Llama layout: every module is one of our targets. */
function llamaPieces(
  files: HfFiles,
  arch: ModelArch,
  rule: (where: string) => { rank: number; scale: number },
): Piece[] {
  const byModule = new Map(LLAMA_LORA_TARGETS.map((t) => [LLAMA_PROJ[t], t]));
  return adapterModules(files, arch, LLAMA_TENSOR, "a Llama block's q/k/v/o_proj or gate/up/down_proj").map((m) => {
    const target = byModule.get(m.module)!;
    const where = `model.layers.${m.layer}.${m.module}`;
    const { rank, scale } = rule(where);
    const { inDim, outDim } = targetSlot(arch, target);
    const { a, b } = moduleMatrices(m, where, peftLlamaTensorName(m.layer, m.module, 'A'), rank, inDim, outDim);
    return { layer: m.layer, target, A: a, B: b, rank, scale };
  });
}

/**
 * PEFT adapter files → a LoraSet on `arch` (the adapter's base model's shapes). Exact for any LoRA on GPT-2's
 * c_attn, attn.c_proj, mlp.c_fc and mlp.c_proj (see the top of this file) or the Llama layout's seven projections;
 * anything else PEFT can express (DoRA, trained biases, other modules, modules_to_save) is refused by name.
 */
export function importPeftAdapter(
  files: HfFiles,
  arch: ModelArch,
  seed = 0,
): { lora: LoraSet; baseModel: string | null } {
  const { c, r, alpha, rsLora, scaleOf, moduleRule } = adapterConfig(files);
  const pieces = arch.llama ? llamaPieces(files, arch, moduleRule) : gpt2Pieces(files, arch, moduleRule);
  if (pieces.length === 0)
    throw new AssetError(ADAPTER_WEIGHTS, 'holds no LoRA matrices (or only zero ones): nothing to import');
  const lora = loraSetOf(pieces, arch, seed, {
    rank: r,
    alpha,
    rsLora,
    dropout: (c.lora_dropout ?? 0) as number,
    scaleOf,
  });
  const base = c.base_model_name_or_path;
  return { lora, baseModel: typeof base === 'string' && base.length > 0 ? base : null };
}

/** One LoraSet from pieces: rank = the largest piece's, scale = the config's own r/alpha where that rank is r. */
function loraSetOf(
  pieces: Piece[],
  arch: ModelArch,
  seed: number,
  o: {
    rank: number;
    alpha: number;
    rsLora: boolean;
    dropout: number;
    scaleOf: (rank: number, alpha: number) => number;
  },
): LoraSet {
  const rank = Math.max(...pieces.map((p) => p.rank));
  const { rank: r, alpha, rsLora, scaleOf } = o;
  const cfg: LoraConfig = {
    rank,
    alpha: rank === r ? alpha : rsLora ? scaleOf(r, alpha) * Math.sqrt(rank) : scaleOf(r, alpha) * rank,
    dropout: o.dropout,
    targets: loraTargetsOf(arch).filter((t) => pieces.some((p) => p.target === t)),
    rsLora,
  };
  const layers = [...new Set(pieces.map((p) => p.layer))].sort((x, y) => x - y);
  const lora = new LoraSet(arch, cfg, seed, layers);
  for (const p of pieces) {
    const ad = lora.get(p.layer, p.target)!;
    const { inDim, outDim } = targetSlot(arch, p.target);
    const factor = p.scale / lora.scale;
    const a = new Float32Array(inDim * rank); // zero-padded to the common rank
    const b = new Float32Array(rank * outDim);
    for (let i = 0; i < inDim; i++) a.set(p.A.subarray(i * p.rank, (i + 1) * p.rank), i * rank);
    b.set(Math.abs(factor - 1) < 1e-12 ? p.B : p.B.map((x) => x * factor));
    tf.tidy(() => {
      ad.A.assign(tf.tensor2d(a, [inDim, rank]));
      ad.B.assign(tf.tensor2d(b, [rank, outDim]));
    });
  }
  return lora;
}

// ---- merged model ---------------------------------------------------------------------------------------

/**
 * The base model with the adapters folded in (W + s·A·B, computed on a copy: the model is not touched), as a
 * Hugging Face GPT-2 folder: config.json + model.safetensors.
 */
export async function exportMergedHfGpt2(
  model: GPTModel,
  lora: LoraSet | null,
  opts: { eosId: number; dtype?: Dtype },
) {
  const weights = new Map([...(await model.weights())].map(([k, v]) => [k, { shape: v.shape, data: v.data.slice() }]));
  if (lora && !lora.merged) {
    for (const ad of lora.adapters) {
      const slot = targetSlot(model.arch, ad.target);
      const name = `${model.arch.llama ? 'layers' : 'h'}.${ad.layer}.${slot.weight}`;
      const w = weights.get(name)!.data; // [in, colTotal]
      const delta = lora.deltaWeight(ad);
      const d = (await delta.data()) as Float32Array; // [in, out]
      delta.dispose();
      let finite = true;
      for (let i = 0; i < slot.inDim; i++)
        for (let j = 0; j < slot.outDim; j++) {
          const k = i * slot.colTotal + slot.colOffset + j;
          w[k] += d[i * slot.outDim + j];
          finite &&= Number.isFinite(w[k]);
        }
      // as LoraSet.merge (PEFT's safe_merge): a broken adapter is named, and no file is written
      if (!finite)
        throw new Error(
          `LoRA adapter ${ad.target} of block ${ad.layer} would make ${name} non-finite (NaN or Infinity): the adapter is broken (did its run diverge?), so no merged model was exported`,
        );
    }
  }
  return model.arch.llama ? exportHfLlama(model.arch, weights, opts) : exportHfGpt2(model.arch, weights, opts);
}
