// One door for Hugging Face checkpoints: config.json's model_type picks GPT-2's importer (hf-gpt2.ts) or the
// Llama layout's (hf-llama.ts: llama, qwen2, mistral). The page and the CLI call these, not the per-family files.

import { AssetError } from '../assets';
import type { ModelArch } from '../config';
import type { LoadedModel } from '../model/checkpoint';
import { countParams } from '../model/gpt';
import type { Tokenizer } from '../tokenizer/types';
import { formatBytes } from '../units';
import {
  archFromHfConfig,
  download,
  fetchHfGpt2,
  hfFileUrl,
  importHfGpt2,
  parseJson,
  remoteSize,
  type FetchOptions,
  type HfFiles,
} from './hf-gpt2';
import { archFromLlamaConfig, importHfLlama, LLAMA_MODEL_TYPES } from './hf-llama';

const CONFIG = 'config.json';

const configOf = (config: string | Uint8Array | Record<string, unknown>) =>
  typeof config === 'object' && !(config instanceof Uint8Array) ? config : parseJson(CONFIG, config);

const isLlama = (c: Record<string, unknown>) => LLAMA_MODEL_TYPES.includes(String(c.model_type));

/** config.json → ModelArch for any supported family; unsupported model types are named with the supported ones. */
export function archOfHfConfig(config: string | Uint8Array | Record<string, unknown>): ModelArch {
  const c = configOf(config);
  if (isLlama(c)) return archFromLlamaConfig(c);
  if (c.model_type === 'gpt2') return archFromHfConfig(c);
  throw new AssetError(
    CONFIG,
    `model_type ${String(c.model_type ?? 'missing')} is not supported: GPT-2 (gpt2) and the Llama layout (${LLAMA_MODEL_TYPES.join(', ')}) can be imported`,
  );
}

/** What a checkpoint costs before it is downloaded: parameters and bytes as float32 (how the engine holds it). */
export function estimateHfSize(config: string | Uint8Array | Record<string, unknown>) {
  const arch = archOfHfConfig(config);
  const params = countParams(arch);
  return { arch, params, bytesF32: params * 4 };
}

/** A Hugging Face model folder (config, weights, tokenizer files) → a model ready for a Session. */
export async function importHfModel(
  files: HfFiles,
  opts: { name: string; tokenizer?: Tokenizer },
): Promise<LoadedModel> {
  if (files[CONFIG] === undefined)
    throw new AssetError(CONFIG, 'is missing: a Hugging Face model needs config.json next to its weights');
  const c = configOf(files[CONFIG]);
  archOfHfConfig(c); // names an unsupported model_type before anything else is read
  return isLlama(c) ? importHfLlama(files, opts) : importHfGpt2(files, opts);
}

/**
 * Downloads a model from huggingface.co: config.json first (checked), then the weights (one file, or the shards
 * of model.safetensors.index.json) after comparing their size with maxBytes, then the tokenizer files.
 */
export async function fetchHfModel(id: string, o: FetchOptions = {}): Promise<HfFiles> {
  const url = (file: string) => hfFileUrl(id, file, o.revision);
  const config = await download(url(CONFIG), CONFIG, o, null);
  if (!config) throw new AssetError(id, `was not found on huggingface.co (no ${CONFIG}); check the model id`);
  if (!isLlama(configOf(config))) return fetchHfGpt2(id, o);
  const { params } = estimateHfSize(config);
  const files: HfFiles = { [CONFIG]: config };
  let shards = ['model.safetensors'];
  let sizes = [await remoteSize(url('model.safetensors'), o)];
  if (sizes[0] === null) {
    const index = await download(url('model.safetensors.index.json'), 'model.safetensors.index.json', o, null);
    if (!index)
      throw new AssetError(
        'model.safetensors',
        `was not found in ${id}: only models published as safetensors can be imported`,
      );
    files['model.safetensors.index.json'] = index;
    const map = parseJson('model.safetensors.index.json', index).weight_map as Record<string, string>;
    shards = [...new Set(Object.values(map ?? {}))].sort();
    sizes = await Promise.all(shards.map((s) => remoteSize(url(s), o)));
  }
  const total = sizes.reduce<number>((n, s) => n + (s ?? 0), 0);
  if (o.maxBytes !== undefined && total > o.maxBytes)
    throw new AssetError(
      shards.length > 1 ? 'model.safetensors.index.json' : 'model.safetensors',
      `weights are ${formatBytes(total)} (${(params / 1e6).toFixed(0)}M parameters), more than the ${formatBytes(o.maxBytes)} this device can hold`,
    );
  for (const [i, shard] of shards.entries()) {
    const bytes = await download(url(shard), shard, o, sizes[i]);
    if (!bytes) throw new AssetError(shard, `was not found in ${id}`);
    files[shard] = bytes;
  }
  for (const tok of ['tokenizer.json', 'tokenizer_config.json']) {
    const bytes = await download(url(tok), tok, o, null);
    if (bytes) files[tok] = bytes;
  }
  return files;
}
