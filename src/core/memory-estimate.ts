// What a training step will take, estimated from the config before anything is built (free of tfjs, so the page's
// main thread, the worker and the CLI share it): the parts train/memory.ts measures once a step has run. Used to
// refuse a run that cannot fit, with the figures, instead of letting WebAssembly abort mid-step.
// Activations follow what model/fused.ts saves for backward per token and block (calibrated against the measured
// parts by scripts/probes/memory-calibrate.ts; tests/unit/memory.test.ts holds the estimate within a factor).

import { paramCount, type ModelArch, type RunConfig } from './config';

/** WebAssembly's heap ends at 4 GiB (tfjs-backend-wasm's getHeapMax: 4,294,901,760 bytes). */
export const WASM_HEAP_BYTES = 4294901760;
/**
 * How much wasm heap a step's tensors take: the allocator never hands memory back and fragments, so the heap grows
 * past the tensor peak. Measured by scripts/probes/wasm-heap.ts on 2026-12-06: 1.32× at ref-0.8M full fine-tuning,
 * 1.87× at the 135M Llama with LoRA (937 MB of tensors, a 1,749 MB heap); full fine-tuning there (about 2.7 GB of
 * tensors by this estimate) aborted at the 4 GiB end. 2× covers both.
 */
export const WASM_HEAP_FACTOR = 2;

export interface StepEstimate {
  weights: number; // the model's float32 weights, as tensors
  baseCopy: number; // the float32 copy each run starts from (a JavaScript array, outside the backend's memory)
  trainableWeights: number; // LoRA's adapters, or nothing extra for full fine-tuning (the weights themselves)
  gradients: number;
  optimizerState: number;
  activations: number; // kept for backward: per token and block, plus the logits and their probabilities
  working: number; // the largest temporary of backward: one block's attention scores and their gradient
  peak: number;
}

/** Parameters of the adapters a LoRA config adds (rank × (in + out) per targeted projection and block). */
export function loraParamCount(a: ModelArch, c: RunConfig['lora']): number {
  const C = a.nEmbd;
  const L = a.llama;
  const kv = L ? (C / a.nHead) * L.nKvHead : C;
  const H = L ? L.intermediateSize : a.mlpRatio * C;
  const io: Record<string, [number, number]> = {
    q: [C, C],
    k: [C, kv],
    v: [C, kv],
    o: [C, C],
    gate: [C, H],
    up: [C, H],
    down: [H, C],
  };
  return a.nLayer * c.targets.reduce((n, t) => n + c.rank * (io[t][0] + io[t][1]), 0);
}

/** Floats saved for backward per token per block: residual-stream and MLP-width tensors the fused ops keep. */
function savedPerToken(a: ModelArch, lora: boolean): number {
  const C = a.nEmbd;
  if (a.llama) {
    const I = a.llama.intermediateSize;
    // norms' x̂ (2C), q, k, v after rotation and sharing (3C), the attention output (C), gate and up (2I), their
    // product (I) for down; full fine-tuning also keeps each projection's input for its weight gradient
    return lora ? 6 * C + 3 * I : 9 * C + 4 * I;
  }
  const H = a.mlpRatio * C;
  // LayerNorms' x̂ (2C), q, k, v (3C), attention output (C), the MLP's pre- and post-GELU (2H); full fine-tuning
  // also keeps the inputs of c_attn, c_proj, c_fc and mlp.c_proj
  return lora ? 6 * C + 2 * H : 9 * C + 3 * H;
}

/** The estimate for batches of sequences `seqLen` tokens long (default: the model's whole context). */
export function estimateStepMemory(c: RunConfig, seqLen = c.model.arch.blockSize): StepEstimate {
  const a = c.model.arch;
  const t = c.train;
  const P = paramCount(a);
  const lora = t.method === 'lora';
  const trainable = lora ? loraParamCount(a, c.lora) : P;
  const B = t.batchSize;
  const T = Math.min(seqLen, a.blockSize);
  const tokens = B * T;
  const f = 4; // float32
  const weights = f * P;
  const baseCopy = f * P;
  const trainableWeights = lora ? f * trainable : 0;
  const gradients = f * trainable;
  const optimizerState = f * trainable * (t.optimizer === 'adamw' ? 2 : 1);
  const activations = f * tokens * (a.nLayer * savedPerToken(a, lora) + 2 * a.vocabSize);
  const working = f * (2 * B * a.nHead * T * T + 2 * tokens * a.vocabSize);
  return {
    weights,
    baseCopy,
    trainableWeights,
    gradients,
    optimizerState,
    activations,
    working,
    peak: weights + baseCopy + trainableWeights + gradients + optimizerState + activations + working,
  };
}
