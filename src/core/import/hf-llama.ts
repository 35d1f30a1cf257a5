// Hugging Face checkpoints in the Llama layout (model_type llama, qwen2, mistral: SmolLM2, TinyLlama, Qwen2.5,
// Llama 3.x without long-context scaling) in and out: config.json ↔ ModelArch, model.safetensors or a sharded
// model.safetensors.index.json ↔ our parameter map (nn.Linear's [out, in] transposed to our [in, out]), and
// tokenizer.json through @huggingface/tokenizers. Every refusal names the file and the field.
// Reference: transformers' LlamaConfig / Qwen2Config / MistralConfig and their modeling files.

import { AssetError } from '../assets';
import { configProblems, defaultConfig, mergeConfig, type ModelArch } from '../config';
import { checkWeights, type LoadedModel } from '../model/checkpoint';
import { GPTModel } from '../model/model';
import { readSafetensors, SafetensorsError, writeSafetensors, type Dtype } from '../model/safetensors';
import { HfTokenizer } from '../tokenizer/hf';
import type { Tokenizer } from '../tokenizer/types';
import { parseJson, type HfFiles } from './hf-gpt2';

type Weights = Map<string, { shape: number[]; data: Float32Array }>;

export const LLAMA_MODEL_TYPES = ['llama', 'qwen2', 'mistral'];
const CONFIG = 'config.json';
const WEIGHTS = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';
/** The longest context the engine runs (config validation's bound); rotary positions need no table. */
const MAX_CONTEXT = 8192;
// Where each ModelArch field comes from in config.json, for error messages.
const HF_FIELD: Record<string, string> = {
  vocabSize: 'vocab_size',
  blockSize: 'max_position_embeddings',
  nLayer: 'num_hidden_layers',
  nHead: 'num_attention_heads',
  nEmbd: 'hidden_size',
  layerNormEps: 'rms_norm_eps',
  'llama.nKvHead': 'num_key_value_heads',
  'llama.intermediateSize': 'intermediate_size',
  'llama.ropeTheta': 'rope_theta',
};

/** config.json of a Llama-layout model → ModelArch. Throws, naming the field, for anything computed differently here. */
export function archFromLlamaConfig(c: Record<string, unknown>): ModelArch {
  const fail = (msg: string) => new AssetError(CONFIG, msg);
  const type = String(c.model_type);
  if (!LLAMA_MODEL_TYPES.includes(type))
    throw fail(`model_type ${type} is not a Llama-layout model (${LLAMA_MODEL_TYPES.join(', ')})`);
  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu')
    throw fail(`hidden_act ${JSON.stringify(act)} is not supported: this engine computes SwiGLU with silu`);
  const scaling = c.rope_scaling as Record<string, unknown> | null | undefined;
  if (scaling !== null && scaling !== undefined) {
    const kind = scaling.rope_type ?? scaling.type ?? 'unknown';
    if (kind !== 'default')
      throw fail(
        `rope_scaling type ${JSON.stringify(kind)} is not supported: only plain rotary positions (no rope_scaling) are implemented`,
      );
  }
  for (const [field, want] of [
    ['attention_bias', false],
    ['mlp_bias', false],
    ['use_sliding_window', false],
  ] as const) {
    if (c[field] !== undefined && c[field] !== want)
      throw fail(`${field} = ${JSON.stringify(c[field])} is not supported: this engine needs ${want}`);
  }
  const nEmbd = c.hidden_size as number;
  const nHead = c.num_attention_heads as number;
  if (c.head_dim !== undefined && c.head_dim !== null && c.head_dim !== nEmbd / nHead)
    throw fail(
      `head_dim = ${JSON.stringify(c.head_dim)} is not supported: this engine needs hidden_size / num_attention_heads (${nEmbd / nHead})`,
    );
  const maxPos = (c.max_position_embeddings ?? 2048) as number;
  const sliding = type === 'mistral' && typeof c.sliding_window === 'number' ? c.sliding_window : Infinity;
  const intermediateSize = c.intermediate_size as number;
  const arch: ModelArch = {
    vocabSize: c.vocab_size as number,
    blockSize: typeof maxPos === 'number' ? Math.min(maxPos, sliding, MAX_CONTEXT) : maxPos,
    nLayer: c.num_hidden_layers as number,
    nHead,
    nEmbd,
    mlpRatio: intermediateSize / nEmbd,
    layerNormEps: (c.rms_norm_eps ?? 1e-6) as number,
    llama: {
      nKvHead: (c.num_key_value_heads ?? nHead) as number,
      intermediateSize,
      ropeTheta: (c.rope_theta ?? 10000) as number,
      qkvBias: type === 'qwen2',
      // transformers' LlamaConfig, Qwen2Config and MistralConfig all default to an untied head
      tiedHead: (c.tie_word_embeddings ?? false) as boolean,
    },
  };
  const problems = configProblems(mergeConfig(defaultConfig(), { model: { arch } })).filter((p) =>
    p.field.startsWith('model.arch.'),
  );
  if (problems.length > 0) {
    const key = problems[0].field.slice('model.arch.'.length);
    const field = HF_FIELD[key] ?? key;
    throw fail(`${field} = ${JSON.stringify(c[field])} is not valid (as ${key}: ${problems[0].accepted})`);
  }
  return arch;
}

/** Parses one safetensors file, turning format errors into errors that name it. */
function readFile(bytes: string | Uint8Array, file: string): Weights {
  try {
    return readSafetensors(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes, file).tensors;
  } catch (e) {
    if (e instanceof SafetensorsError) throw new AssetError(file, e.message.replace(`${file}: `, ''));
    throw e;
  }
}

/** Every tensor of a checkpoint: model.safetensors, or the shards model.safetensors.index.json lists. */
export function readCheckpointTensors(files: HfFiles): { tensors: Weights; file: string } {
  if (files[WEIGHTS] !== undefined) return { tensors: readFile(files[WEIGHTS], WEIGHTS), file: WEIGHTS };
  if (files[INDEX] === undefined) {
    const why =
      files['pytorch_model.bin'] !== undefined
        ? 'pytorch_model.bin (pickle) cannot be read safely in a browser'
        : 'it holds the weights';
    throw new AssetError(WEIGHTS, `is missing (${why}); a model.safetensors or a sharded ${INDEX} is needed`);
  }
  const map = parseJson(INDEX, files[INDEX]).weight_map as Record<string, string> | undefined;
  if (!map || typeof map !== 'object') throw new AssetError(INDEX, 'has no weight_map');
  const tensors: Weights = new Map();
  for (const shard of [...new Set(Object.values(map))].sort()) {
    const bytes = files[shard];
    if (bytes === undefined) throw new AssetError(shard, `is missing: ${INDEX} lists it as a shard of the weights`);
    for (const [name, t] of readFile(bytes, shard)) {
      if (map[name] !== shard) throw new AssetError(shard, `holds tensor "${name}", which ${INDEX} places elsewhere`);
      tensors.set(name, t);
    }
  }
  const lost = Object.entries(map).find(([name]) => !tensors.has(name));
  if (lost) throw new AssetError(lost[1], `does not hold tensor "${lost[0]}", which ${INDEX} says it does`);
  return { tensors, file: INDEX };
}

/** Row-major [rows, cols] → [cols, rows]. */
export function transpose2d(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j];
  return out;
}

/** A projection weight: ours [in, out], transformers' nn.Linear [out, in]. */
const isProjection = (name: string) => /_proj\.weight$/.test(name);

/**
 * transformers' tensor names and layout → our parameter map, checked against the arch. Drops the "model." prefix,
 * transposes projections, skips rotary inv_freq buffers, and takes lm_head only for an untied head (a tied one is the
 * embedding: save_pretrained may leave it out or write it again).
 */
export function llamaWeightsFromHf(arch: ModelArch, tensors: Weights, file: string): Map<string, Float32Array> {
  const ours: Weights = new Map();
  for (const [hfName, t] of tensors) {
    if (/rotary_emb\.inv_freq$/.test(hfName)) continue;
    const name = hfName.startsWith('model.') ? hfName.slice('model.'.length) : hfName;
    if (name === 'lm_head.weight' && arch.llama?.tiedHead) continue;
    if (isProjection(name) && t.shape.length === 2) {
      const [rows, cols] = t.shape;
      ours.set(name, { shape: [cols, rows], data: transpose2d(t.data, rows, cols) });
    } else ours.set(name, t);
  }
  const values = checkWeights(arch, ours, file);
  const unknown = [...ours.keys()].filter((n) => !values.has(n));
  if (unknown.length > 0) {
    const list =
      unknown
        .slice(0, 5)
        .map((n) => `"${n}"`)
        .join(', ') + (unknown.length > 5 ? `, and ${unknown.length - 5} more` : '');
    throw new AssetError(
      file,
      `has tensors a ${arch.nLayer}-layer model of this config does not have: ${list} (does config.json belong to this checkpoint?)`,
    );
  }
  return values;
}

/** tokenizer.json (+ tokenizer_config.json) of the checkpoint, checked against the embedding's size. */
export function hfTokenizerOf(files: HfFiles, config: Record<string, unknown>, arch: ModelArch): HfTokenizer {
  if (files['tokenizer.json'] === undefined)
    throw new AssetError(
      'tokenizer.json',
      'is missing: a Llama-layout model needs its tokenizer.json (the fast tokenizer transformers saves) beside config.json',
    );
  const tj = parseJson('tokenizer.json', files['tokenizer.json']);
  const tc =
    files['tokenizer_config.json'] !== undefined
      ? parseJson('tokenizer_config.json', files['tokenizer_config.json'])
      : {};
  const eos = config.eos_token_id;
  const eosId = Array.isArray(eos) ? (eos[0] as number) : typeof eos === 'number' ? eos : undefined;
  const tok = new HfTokenizer(tj, tc, eosId);
  if (tok.vocabSize > arch.vocabSize)
    throw new AssetError(CONFIG, `vocab_size ${arch.vocabSize} is smaller than tokenizer.json's ${tok.vocabSize} ids`);
  return tok;
}

/** config.json + weights (+ tokenizer.json) of a Llama-layout checkpoint → a model ready for a Session. */
export function importHfLlama(files: HfFiles, opts: { name: string; tokenizer?: Tokenizer }): LoadedModel {
  const config = parseJson(CONFIG, files[CONFIG]);
  const arch = archFromLlamaConfig(config);
  const tokenizer = opts.tokenizer ?? hfTokenizerOf(files, config, arch);
  const { tensors, file } = readCheckpointTensors(files);
  const values = llamaWeightsFromHf(arch, tensors, file);
  return {
    model: new GPTModel(arch, values),
    tokenizer,
    config: {
      name: opts.name,
      arch,
      tokenizer: tokenizer.kind,
      description: `Imported from Hugging Face checkpoint ${opts.name} (${String(config.model_type)})`,
    },
  };
}

// ---- export ---------------------------------------------------------------------------------------------

/** ModelArch → a config.json transformers loads: Qwen2ForCausalLM where q/k/v have biases, else LlamaForCausalLM. */
export function hfLlamaConfigFromArch(arch: ModelArch, eosId: number): Record<string, unknown> {
  const L = arch.llama!;
  const qwen = L.qkvBias;
  return {
    architectures: [qwen ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
    model_type: qwen ? 'qwen2' : 'llama',
    attention_dropout: 0,
    ...(qwen ? { use_sliding_window: false } : { attention_bias: false, mlp_bias: false }),
    bos_token_id: eosId,
    eos_token_id: eosId,
    hidden_act: 'silu',
    hidden_size: arch.nEmbd,
    initializer_range: 0.02,
    intermediate_size: L.intermediateSize,
    max_position_embeddings: arch.blockSize,
    num_attention_heads: arch.nHead,
    num_hidden_layers: arch.nLayer,
    num_key_value_heads: L.nKvHead,
    rms_norm_eps: arch.layerNormEps,
    rope_scaling: null,
    rope_theta: L.ropeTheta,
    tie_word_embeddings: L.tiedHead,
    torch_dtype: 'float32',
    use_cache: true,
    vocab_size: arch.vocabSize,
  };
}

/** Our weights as a transformers model folder: "model." names, projections back to [out, in], lm_head if untied. */
export function exportHfLlama(
  arch: ModelArch,
  weights: Weights,
  opts: { eosId: number; dtype?: Dtype },
): { 'config.json': string; 'model.safetensors': Uint8Array } {
  const values = checkWeights(arch, weights, WEIGHTS);
  const named: Weights = new Map();
  for (const [name, data] of values) {
    const shape = weights.get(name)!.shape;
    const hf = name === 'lm_head.weight' ? name : `model.${name}`;
    if (isProjection(name)) named.set(hf, { shape: [shape[1], shape[0]], data: transpose2d(data, shape[0], shape[1]) });
    else named.set(hf, { shape, data });
  }
  return {
    'config.json': JSON.stringify(hfLlamaConfigFromArch(arch, opts.eosId), null, 2) + '\n',
    'model.safetensors': writeSafetensors(named, { dtype: opts.dtype, metadata: { format: 'pt' } }),
  };
}
