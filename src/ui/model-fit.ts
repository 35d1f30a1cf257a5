// Whether a model to import fits this device, before its weights are downloaded or read (the model import's fit
// line and its download limit). Plain TypeScript, so tests/unit/ui.test.ts checks it.

import { memoryLimit, mergeConfig, type ModelArch, type RunConfig } from '../core/config';
import { estimateStepMemory, WASM_HEAP_BYTES, WASM_HEAP_FACTOR } from '../core/memory-estimate';
import type { HfModelSize } from '../protocol';
import { bytes } from './format';

/** Download limit when the browser does not report its memory. */
export const UNKNOWN_LIMIT = 2e9;

export type Fit = 'fits' | 'too-big' | 'unknown';

/**
 * The example length the fit line assumes: the model's context up to 512 tokens. A run pads to its longest training
 * example, unknown before the model's tokenizer is here; Session.prepare checks the real length before training.
 */
export const fitContext = (a: ModelArch) => Math.min(a.blockSize, 512);

/**
 * Whether a model fits before its weights are downloaded: the engine holds the downloaded file and a training step
 * of the run as set up now, at fitContext's length (memory-estimate.ts: weights, the copy each run starts from, adapters, gradients,
 * optimizer state, activations and working memory at its batch and context); a tab may use about half the device's
 * memory, and on wasm the heap grows to about twice the tensors, up to its 4 GiB end. Without a run config, the
 * weights and their copy alone. `deviceMemoryGb` is navigator.deviceMemory (Chromium only, rounded to a power of
 * two), null where absent.
 */
export function modelFit(
  size: Pick<HfModelSize, 'bytesF32' | 'fileBytes'> & { arch?: ModelArch },
  deviceMemoryGb: number | null,
  run?: { config: RunConfig; backend: string | null },
): { fit: Fit; needBytes: number; maxBytes: number; text: string } {
  const step =
    run && size.arch
      ? estimateStepMemory(mergeConfig(run.config, { model: { arch: size.arch } }), fitContext(size.arch))
      : null;
  const needBytes = (size.fileBytes ?? size.bytesF32) + (step ? step.peak : 2 * size.bytesF32);
  const heap = step && run?.backend === 'wasm' ? WASM_HEAP_FACTOR * (step.peak - step.baseCopy) : 0;
  const what = step
    ? ` (${run!.config.train.method === 'lora' ? 'LoRA' : 'full fine-tuning'} at batch ${run!.config.train.batchSize} × ${fitContext(size.arch!)} tokens)`
    : '';
  if (heap > WASM_HEAP_BYTES)
    return {
      fit: 'too-big',
      needBytes,
      maxBytes: UNKNOWN_LIMIT,
      text: `A training step${what} would grow wasm's heap to about ${bytes(heap)}, past its 4 GiB end: choose ${run!.config.train.method === 'lora' ? '' : 'LoRA, '}a smaller batch, shorter examples, or a GPU backend.`,
    };
  if (deviceMemoryGb === null) {
    return {
      fit: 'unknown',
      needBytes,
      maxBytes: UNKNOWN_LIMIT,
      text: `This browser does not report its memory (no navigator.deviceMemory): whether a step${what} fits is unknown. Downloads over ${bytes(UNKNOWN_LIMIT)} are refused.`,
    };
  }
  const budget = memoryLimit(deviceMemoryGb * 1e9).bytes;
  const fit: Fit = needBytes <= budget ? 'fits' : 'too-big';
  const device = `This device reports ${deviceMemoryGb} GB of memory`;
  return {
    fit,
    needBytes,
    maxBytes: budget / 3,
    text:
      fit === 'fits'
        ? `${device}: a training step${what} should fit.`
        : `${device}: a training step${what} probably does not fit (a tab gets about half, ${bytes(budget)}).`,
  };
}
