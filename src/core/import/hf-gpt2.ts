// Hugging Face GPT-2-architecture checkpoints (gpt2, distilgpt2, gpt2-medium, ...) in and out: config.json ↔
// ModelArch, model.safetensors ↔ our parameter map (the same GPT-2 names and [in, out] Conv1D layout, so no
// transposes), the size shown before a download, and the download itself. Every mismatch names the file,
// the tensor and both shapes. Reference: transformers' GPT2Config and modeling_gpt2.py.

import { AssetError } from '../assets';
import { configProblems, defaultConfig, mergeConfig, type ModelArch } from '../config';
import { formatBytes } from '../units';
import { checkWeights, type LoadedModel } from '../model/checkpoint';
import { countParams } from '../model/gpt';
import { GPTModel } from '../model/model';
import { readSafetensors, writeSafetensors, SafetensorsError, type Dtype } from '../model/safetensors';
import { GPT2_EOS_ID, GPT2_VOCAB_SIZE, Gpt2Tokenizer } from '../tokenizer/gpt2';
import type { Tokenizer } from '../tokenizer/types';

/** Files of a Hugging Face model repository, by file name: text or bytes. */
export type HfFiles = Record<string, string | Uint8Array>;

type Weights = Map<string, { shape: number[]; data: Float32Array }>;

const CONFIG = 'config.json';
const WEIGHTS = 'model.safetensors';
// The tanh approximation under each of the names transformers gives it; exact-erf 'gelu' is another function.
const TANH_GELU = ['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'];
// Where each ModelArch field comes from in config.json, for error messages.
const HF_FIELD: Record<Exclude<keyof ModelArch, 'llama'>, string> = {
  vocabSize: 'vocab_size',
  blockSize: 'n_positions',
  nLayer: 'n_layer',
  nHead: 'n_head',
  nEmbd: 'n_embd',
  mlpRatio: 'n_inner',
  layerNormEps: 'layer_norm_epsilon',
};

const textOf = (v: string | Uint8Array) => (typeof v === 'string' ? v : new TextDecoder().decode(v));

export function parseJson(file: string, v: string | Uint8Array): Record<string, unknown> {
  let j: unknown;
  try {
    j = JSON.parse(textOf(v));
  } catch (e) {
    throw new AssetError(file, `is not valid JSON (${(e as Error).message})`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new AssetError(file, 'is not a JSON object');
  return j as Record<string, unknown>;
}

/** config.json → ModelArch. Throws, naming the field, for anything this engine would compute differently. */
export function archFromHfConfig(config: string | Uint8Array | Record<string, unknown>): ModelArch {
  const c = typeof config === 'object' && !(config instanceof Uint8Array) ? config : parseJson(CONFIG, config);
  const fail = (msg: string) => new AssetError(CONFIG, msg);
  const type = c.model_type ?? 'missing';
  if (type !== 'gpt2') {
    throw fail(
      `model_type ${String(type)} is not supported: only GPT-2-architecture models (gpt2, distilgpt2, gpt2-medium, ...) can be imported`,
    );
  }
  const act = c.activation_function ?? 'gelu_new';
  if (typeof act !== 'string' || !TANH_GELU.includes(act)) {
    throw fail(
      `activation_function ${JSON.stringify(act)} is not supported: this engine computes GPT-2's tanh GELU (${TANH_GELU.join(', ')})`,
    );
  }
  const flags: [string, unknown, unknown][] = [
    ['scale_attn_weights', c.scale_attn_weights, true],
    ['scale_attn_by_inverse_layer_idx', c.scale_attn_by_inverse_layer_idx, false],
    ['add_cross_attention', c.add_cross_attention, false],
    ['tie_word_embeddings', c.tie_word_embeddings, true],
  ];
  for (const [field, value, want] of flags) {
    if (value !== undefined && value !== want)
      throw fail(`${field} = ${JSON.stringify(value)} is not supported: GPT-2 import needs ${want}`);
  }
  const nEmbd = c.n_embd as number;
  const blockSize = c.n_positions ?? c.n_ctx;
  const nInner = c.n_inner ?? null;
  const arch: ModelArch = {
    vocabSize: c.vocab_size as number,
    blockSize: blockSize as number,
    nLayer: c.n_layer as number,
    nHead: c.n_head as number,
    nEmbd,
    mlpRatio: nInner === null ? 4 : (nInner as number) / nEmbd,
    layerNormEps: (c.layer_norm_epsilon ?? 1e-5) as number,
  };
  const problems = configProblems(mergeConfig(defaultConfig(), { model: { arch } })).filter((p) =>
    p.field.startsWith('model.arch.'),
  );
  if (problems.length > 0) {
    const key = problems[0].field.slice('model.arch.'.length) as Exclude<keyof ModelArch, 'llama'>;
    const field = HF_FIELD[key];
    throw fail(
      `${field} = ${JSON.stringify(c[field] ?? (key === 'blockSize' ? c.n_ctx : undefined))} is not valid (as ${key}: ${problems[0].accepted})`,
    );
  }
  return arch;
}

/** What a checkpoint costs before it is downloaded: parameters and bytes as float32 (how the engine holds it). */
export function estimateSize(config: string | Uint8Array | Record<string, unknown>): {
  arch: ModelArch;
  params: number;
  bytesF32: number;
} {
  const arch = archFromHfConfig(config);
  const params = countParams(arch);
  return { arch, params, bytesF32: params * 4 };
}

/**
 * HF tensor names → our parameter map, checked against the arch. Accepts names with or without the
 * `transformer.` prefix; skips the attn.bias / attn.masked_bias buffers; accepts lm_head.weight only when it is
 * the tied embedding (GPT-2's head is wte). Missing tensors, wrong shapes and unknown tensors are errors.
 */
export function gpt2WeightsFromHf(arch: ModelArch, tensors: Weights, file = WEIGHTS): Map<string, Float32Array> {
  const ours: Weights = new Map();
  const unknown: string[] = [];
  let head: { shape: number[]; data: Float32Array } | undefined;
  for (const [hfName, t] of tensors) {
    const name = hfName.startsWith('transformer.') ? hfName.slice('transformer.'.length) : hfName;
    if (/^h\.\d+\.attn\.(bias|masked_bias)$/.test(name)) continue; // causal-mask buffers, not weights
    if (name === 'lm_head.weight') head = t;
    else if (ours.has(name))
      throw new AssetError(file, `tensor "${name}" appears twice (with and without the "transformer." prefix)`);
    else ours.set(name, t);
  }
  const values = checkWeights(arch, ours, file);
  for (const name of ours.keys()) if (!values.has(name)) unknown.push(name);
  if (unknown.length > 0) {
    const list =
      unknown
        .slice(0, 5)
        .map((n) => `"${n}"`)
        .join(', ') + (unknown.length > 5 ? `, and ${unknown.length - 5} more` : '');
    throw new AssetError(
      file,
      `has tensors a GPT-2 model with ${arch.nLayer} layers does not have: ${list} (does config.json belong to this checkpoint?)`,
    );
  }
  const wte = values.get('wte.weight')!;
  if (head && (head.data.length !== wte.length || head.data.some((x, i) => x !== wte[i]))) {
    throw new AssetError(
      file,
      `"lm_head.weight" [${head.shape}] is not the token embedding "wte.weight": untied output heads are not supported (GPT-2 ties them)`,
    );
  }
  return values;
}

/** Parses the weights file, turning format errors into errors that name it. */
function readWeights(bytes: Uint8Array): Weights {
  try {
    return readSafetensors(bytes, WEIGHTS).tensors;
  } catch (e) {
    if (e instanceof SafetensorsError) throw new AssetError(WEIGHTS, e.message.replace(`${WEIGHTS}: `, ''));
    throw e;
  }
}

/** Spot checks that tokenizer.json / vocab.json is GPT-2's vocabulary, the only one the engine can encode. */
function checkGpt2Vocab(files: HfFiles) {
  const file =
    files['tokenizer.json'] !== undefined ? 'tokenizer.json' : files['vocab.json'] !== undefined ? 'vocab.json' : null;
  if (!file) return;
  const j = parseJson(file, files[file]);
  const vocab = (file === 'tokenizer.json' ? (j.model as { vocab?: Record<string, number> } | undefined)?.vocab : j) as
    Record<string, unknown> | undefined;
  const expected: [string, number][] = [
    ['Hello', 15496],
    ['Ġworld', 995],
    ['<|endoftext|>', GPT2_EOS_ID],
  ];
  const wrong = expected.find(([tok, id]) => vocab?.[tok] !== id);
  if (wrong) {
    throw new AssetError(
      file,
      `is not GPT-2's BPE vocabulary ("${wrong[0]}" should be id ${wrong[1]}, found ${JSON.stringify(vocab?.[wrong[0]])}): only models using GPT-2's tokenizer can be imported`,
    );
  }
}

export interface ImportOptions {
  name: string; // how the model is known from now on: the Hugging Face id, or the dropped folder's name
  tokenizer?: Tokenizer; // default GPT-2 BPE; give one for a checkpoint with its own (small) vocabulary
}

/** config.json + model.safetensors (+ optional tokenizer.json / vocab.json) → a model ready for a Session. */
export async function importHfGpt2(files: HfFiles, opts: ImportOptions): Promise<LoadedModel> {
  if (files[CONFIG] === undefined)
    throw new AssetError(CONFIG, 'is missing: a Hugging Face model needs config.json next to its weights');
  const arch = archFromHfConfig(files[CONFIG]);
  const bytes = files[WEIGHTS];
  if (bytes === undefined) {
    const why =
      files['model.safetensors.index.json'] !== undefined
        ? 'sharded checkpoints are not supported'
        : files['pytorch_model.bin'] !== undefined
          ? 'pytorch_model.bin (pickle) cannot be read safely in a browser'
          : 'it holds the weights';
    throw new AssetError(WEIGHTS, `is missing (${why}); only a single model.safetensors file can be imported`);
  }
  let tokenizer = opts.tokenizer;
  if (!tokenizer) {
    checkGpt2Vocab(files);
    if (arch.vocabSize < GPT2_VOCAB_SIZE) {
      throw new AssetError(
        CONFIG,
        `vocab_size ${arch.vocabSize} is smaller than GPT-2's ${GPT2_VOCAB_SIZE} tokens: the checkpoint uses another tokenizer, and only GPT-2's BPE is supported`,
      );
    }
    tokenizer = await Gpt2Tokenizer.load();
  } else if (tokenizer.vocabSize > arch.vocabSize) {
    throw new AssetError(
      CONFIG,
      `vocab_size ${arch.vocabSize} is smaller than the tokenizer's ${tokenizer.vocabSize} ids`,
    );
  }
  const values = gpt2WeightsFromHf(
    arch,
    readWeights(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes),
  );
  return {
    model: new GPTModel(arch, values),
    tokenizer,
    config: {
      name: opts.name,
      arch,
      tokenizer: tokenizer.kind,
      description: `Imported from Hugging Face checkpoint ${opts.name}`,
    },
  };
}

// ---- export ---------------------------------------------------------------------------------------------

/** ModelArch → a GPT-2 config.json that transformers loads as GPT2LMHeadModel (dropout off: none was trained). */
export function hfConfigFromArch(arch: ModelArch, eosId: number): Record<string, unknown> {
  const nInner = arch.mlpRatio * arch.nEmbd;
  return {
    activation_function: 'gelu_new',
    architectures: ['GPT2LMHeadModel'],
    attn_pdrop: 0,
    bos_token_id: eosId,
    embd_pdrop: 0,
    eos_token_id: eosId,
    initializer_range: 0.02,
    layer_norm_epsilon: arch.layerNormEps,
    model_type: 'gpt2',
    n_ctx: arch.blockSize,
    n_embd: arch.nEmbd,
    n_head: arch.nHead,
    n_inner: nInner === 4 * arch.nEmbd ? null : nInner,
    n_layer: arch.nLayer,
    n_positions: arch.blockSize,
    resid_pdrop: 0,
    scale_attn_weights: true,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
    use_cache: true,
    vocab_size: arch.vocabSize,
  };
}

/**
 * Our weights as a Hugging Face GPT-2 model folder. Names get the `transformer.` prefix and lm_head is left out,
 * as GPT2LMHeadModel.save_pretrained writes them; the causal-mask buffers are rebuilt by transformers on load.
 */
export function exportHfGpt2(
  arch: ModelArch,
  weights: Weights,
  opts: { eosId: number; dtype?: Dtype },
): { 'config.json': string; 'model.safetensors': Uint8Array } {
  const values = checkWeights(arch, weights, WEIGHTS);
  const named = new Map(
    [...values].map(([name, data]) => [`transformer.${name}`, { shape: weights.get(name)!.shape, data }]),
  );
  return {
    'config.json': JSON.stringify(hfConfigFromArch(arch, opts.eosId), null, 2) + '\n',
    'model.safetensors': writeSafetensors(named, { dtype: opts.dtype, metadata: { format: 'pt' } }),
  };
}

// ---- download -------------------------------------------------------------------------------------------

export interface FetchProgress {
  file: string;
  loaded: number; // bytes received so far
  total: number | null; // bytes expected, when the server says
}

export interface FetchOptions {
  revision?: string; // branch, tag or commit (default "main")
  maxBytes?: number; // refuse a model.safetensors larger than this, before downloading it
  onProgress?: (p: FetchProgress) => void;
  signal?: AbortSignal;
  fetch?: typeof fetch; // injectable for tests
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

export function hfFileUrl(id: string, file: string, revision = 'main'): string {
  if (!REPO_ID.test(id) || id.includes('..'))
    throw new AssetError(id, 'is not a Hugging Face model id (expected "name" or "owner/name", e.g. "distilgpt2")');
  return `https://huggingface.co/${id}/resolve/${encodeURIComponent(revision)}/${file}`;
}

/** Size of a file in bytes from a HEAD request: the hub's x-linked-size (LFS files), else content-length. */
export async function remoteSize(url: string, o: Pick<FetchOptions, 'fetch' | 'signal'> = {}): Promise<number | null> {
  const res = await (o.fetch ?? fetch)(url, { method: 'HEAD', signal: o.signal });
  if (!res.ok) return null;
  const size = Number(res.headers.get('x-linked-size') ?? res.headers.get('content-length'));
  return Number.isFinite(size) && size > 0 ? size : null;
}

export async function download(
  url: string,
  file: string,
  o: FetchOptions,
  expected: number | null,
): Promise<Uint8Array | null> {
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(url, { signal: o.signal });
  } catch (e) {
    throw new AssetError(file, `could not be fetched from ${url} (${(e as Error).message})`);
  }
  if (res.status === 404) return null;
  if (!res.ok)
    throw new AssetError(
      file,
      `could not be fetched from ${url} (HTTP ${res.status}${res.status === 401 ? ': gated or private models need a login this page does not have' : ''})`,
    );
  const header = Number(res.headers.get('content-length'));
  const total = expected ?? (Number.isFinite(header) && header > 0 ? header : null);
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    o.onProgress?.({ file, loaded: bytes.length, total: total ?? bytes.length });
    return bytes;
  }
  // Stream into one buffer when the size is known (no second copy of a large file), else gather chunks.
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let buf = total !== null ? new Uint8Array(total) : null;
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (o.maxBytes !== undefined && loaded + value.length > o.maxBytes) {
      await reader.cancel();
      throw new AssetError(file, `is larger than the limit of ${formatBytes(o.maxBytes)}; download stopped`);
    }
    if (buf && loaded + value.length > buf.length) {
      chunks.push(buf.subarray(0, loaded));
      buf = null;
    }
    if (buf) buf.set(value, loaded);
    else chunks.push(value);
    loaded += value.length;
    o.onProgress?.({ file, loaded, total });
  }
  if (buf) return loaded === buf.length ? buf : buf.slice(0, loaded);
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Downloads config.json, model.safetensors and GPT-2's tokenizer description from huggingface.co. The config
 * is checked and the weights' size compared with maxBytes (HEAD request) before the weights are fetched.
 */
export async function fetchHfGpt2(id: string, o: FetchOptions = {}): Promise<HfFiles> {
  const url = (file: string) => hfFileUrl(id, file, o.revision);
  const config = await download(url(CONFIG), CONFIG, o, null);
  if (!config) throw new AssetError(id, `was not found on huggingface.co (no ${CONFIG}); check the model id`);
  const { params } = estimateSize(config);
  const size = await remoteSize(url(WEIGHTS), o);
  if (size === null)
    throw new AssetError(WEIGHTS, `was not found in ${id}: only models published as safetensors can be imported`);
  if (o.maxBytes !== undefined && size > o.maxBytes) {
    throw new AssetError(
      WEIGHTS,
      `is ${formatBytes(size)} (${(params / 1e6).toFixed(0)}M parameters), more than the ${formatBytes(o.maxBytes)} this device can hold`,
    );
  }
  const weights = await download(url(WEIGHTS), WEIGHTS, o, size);
  if (!weights) throw new AssetError(WEIGHTS, `was not found in ${id}`);
  const files: HfFiles = { [CONFIG]: config, [WEIGHTS]: weights };
  for (const tok of ['tokenizer.json', 'vocab.json']) {
    const bytes = await download(url(tok), tok, o, null);
    if (bytes) {
      files[tok] = bytes;
      break;
    }
  }
  return files;
}
