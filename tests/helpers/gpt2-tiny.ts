// The committed tiny Hugging Face GPT-2 (tests/fixtures/gpt2-tiny, made by make_fixture.py) and its golden logits.

import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import type { ModelArch } from '../../src/core/config';
import type { HfFiles } from '../../src/core/import/hf-gpt2';
import { logits } from '../../src/core/model/gpt';
import type { LoraSet } from '../../src/core/model/lora';
import type { GPTModel } from '../../src/core/model/model';
import { CharTokenizer, defaultCharset } from '../../src/core/tokenizer/char';
import { valuesOf } from './tiny';

const dir = new URL('../fixtures/gpt2-tiny/', import.meta.url);
export const fixtureBytes = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));
export const fixtureJson = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as T;

/** config.json + model.safetensors as the page would hand them over. */
export function fixtureFiles(): HfFiles {
  return { 'config.json': fixtureBytes('config.json'), 'model.safetensors': fixtureBytes('model.safetensors') };
}

export interface Golden {
  input_ids: number[][];
  shape: number[];
  logits: number[];
}

/** A tokenizer for the fixture's 50-id vocabulary (the checkpoint has no tokenizer of its own). */
export const fixtureTokenizer = (vocabSize = 50) => new CharTokenizer(defaultCharset().slice(0, vocabSize - 2));

/** Logits [B*T, V] for the golden input ids. */
export function fixtureLogits(
  model: GPTModel,
  arch: ModelArch,
  ids: number[][],
  lora: LoraSet | null = null,
): Promise<Float32Array> {
  return valuesOf(
    tf.tidy(() => logits(model.params, arch, tf.tensor2d(ids.flat(), [ids.length, ids[0].length], 'int32'), { lora })),
  );
}
