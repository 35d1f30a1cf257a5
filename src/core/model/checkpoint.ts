// A model on disk or on the web: models/<name>/config.json (arch + tokenizer kind), model.safetensors
// (GPT-2 tensor names), tokenizer.json. Loading checks every tensor against the config and says what is wrong.

import type { AssetLoader } from '../assets';
import { AssetError } from '../assets';
import type { ModelArch } from '../config';
import { configProblems, defaultConfig, mergeConfig } from '../config';
import { CharTokenizer } from '../tokenizer/char';
import type { Tokenizer } from '../tokenizer/types';
import { paramShapes } from './gpt';
import { GPTModel } from './model';
import { readSafetensors, writeSafetensors, SafetensorsError } from './safetensors';

export interface ModelFileConfig {
  name: string;
  arch: ModelArch;
  tokenizer: Tokenizer['kind']; // 'gpt2-bpe' for imported Hugging Face models
  description?: string;
}

export interface LoadedModel {
  model: GPTModel;
  tokenizer: Tokenizer;
  config: ModelFileConfig;
}

/** Checks a name → tensor map against the arch; returns the values or throws naming the first problem. */
export function checkWeights(
  arch: ModelArch,
  tensors: Map<string, { shape: number[]; data: Float32Array }>,
  file: string,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of paramShapes(arch)) {
    const t = tensors.get(name);
    if (!t) throw new AssetError(file, `tensor "${name}" is missing (the config needs shape [${shape}])`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new AssetError(
        file,
        `tensor "${name}" has shape [${t.shape}] but the config (nEmbd ${arch.nEmbd}, vocab ${arch.vocabSize}, context ${arch.blockSize}) needs [${shape}]`,
      );
    }
    out.set(name, t.data);
  }
  return out;
}

export async function loadModel(loader: AssetLoader, name: string): Promise<LoadedModel> {
  const dir = `models/${name}`;
  let cfg: ModelFileConfig;
  try {
    cfg = JSON.parse(await loader.text(`${dir}/config.json`)) as ModelFileConfig;
  } catch (e) {
    if (e instanceof AssetError) throw e;
    throw new AssetError(`${dir}/config.json`, `is not valid JSON (${(e as Error).message})`);
  }
  const problems = configProblems(mergeConfig(defaultConfig(), { model: { arch: cfg.arch } })).filter((p) =>
    p.field.startsWith('model.arch'),
  );
  if (!cfg.arch || problems.length > 0)
    throw new AssetError(`${dir}/config.json`, problems[0]?.message ?? 'has no "arch"');
  let tokJson: { chars: string[] };
  try {
    tokJson = JSON.parse(await loader.text(`${dir}/tokenizer.json`));
  } catch (e) {
    if (e instanceof AssetError) throw e;
    throw new AssetError(`${dir}/tokenizer.json`, `is not valid JSON (${(e as Error).message})`);
  }
  const tokenizer = CharTokenizer.fromJSON(tokJson);
  if (tokenizer.vocabSize !== cfg.arch.vocabSize) {
    throw new AssetError(
      `${dir}/tokenizer.json`,
      `has ${tokenizer.vocabSize} tokens but config.json says vocabSize ${cfg.arch.vocabSize}`,
    );
  }
  const file = `${dir}/model.safetensors`;
  let st;
  try {
    st = readSafetensors(await loader.bytes(file), file);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new AssetError(file, e.message.replace(`${file}: `, ''));
    throw e;
  }
  return { model: new GPTModel(cfg.arch, checkWeights(cfg.arch, st.tensors, file)), tokenizer, config: cfg };
}

/** The three files of a model directory, as bytes/text to write wherever the caller likes. */
export async function serializeModel(
  model: GPTModel,
  tokenizer: Tokenizer,
  cfg: Omit<ModelFileConfig, 'arch'>,
  metadata: Record<string, string> = {},
) {
  const weights = await model.weights();
  return {
    'config.json': JSON.stringify({ ...cfg, arch: model.arch }, null, 2) + '\n',
    'tokenizer.json': JSON.stringify(tokenizer.toJSON()) + '\n',
    'model.safetensors': writeSafetensors(weights, { metadata: { format: 'pt', ...metadata } }),
  };
}
