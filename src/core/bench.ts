// The benchmark's measurement, shared by the Node bench (scripts/bench.ts) and the browser bench (bench.html, run
// by `npm run bench -- --browser`): one training run of a seeded random model on random tokens, timed per step by
// the trainer itself (and by CPU time where the caller can read it), plus the memory of a step by part
// (train/memory.ts: the engine's high-water mark over forward, backward and AdamW, weights included, and what each
// part holds), from a separate two-step run because profiling slows every kernel.

import * as tf from '@tensorflow/tfjs';
import { defaultConfig, mergeConfig, stepMemoryProblem, type LoraConfig, type ModelArch } from './config';
import type { Example } from './data/types';
import type { EmbedMode } from './model/gpt';
import { LoraSet } from './model/lora';
import { GPTModel } from './model/model';
import { Rng } from './rng';
import { CharTokenizer } from './tokenizer/char';
import type { MemoryParts } from './train/memory';
import { Trainer } from './train/trainer';

// tiny-world: the built-in model. ref-0.8M: the model PLATFORM.md timed (PyTorch 75 ms/step, naive tfjs wasm 3,030 ms).
export const BENCH_SIZES: Record<string, { arch: ModelArch; batch: number; lora?: Partial<LoraConfig> }> = {
  'tiny-world': {
    arch: { vocabSize: 99, blockSize: 128, nLayer: 4, nHead: 4, nEmbd: 64, mlpRatio: 4, layerNormEps: 1e-5 },
    batch: 16,
  },
  // the default model's shape (4 blocks, 128 wide, context 128): what a learner trains when the page opens
  'small-world': {
    arch: { vocabSize: 99, blockSize: 128, nLayer: 4, nHead: 4, nEmbd: 128, mlpRatio: 4, layerNormEps: 1e-5 },
    batch: 16,
  },
  'ref-0.8M': {
    arch: { vocabSize: 99, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, mlpRatio: 4, layerNormEps: 1e-5 },
    batch: 16,
  },
  // SmolLM2-135M's depth, width, heads and vocabulary in GPT-2's layout (4x MLP, no GQA): 152M parameters. Opt-in
  // (--sizes gpt-135M): seconds per step on wasm.
  'gpt-135M': {
    arch: { vocabSize: 49152, blockSize: 128, nLayer: 30, nHead: 9, nEmbd: 576, mlpRatio: 4, layerNormEps: 1e-5 },
    batch: 2,
  },
  // SmolLM2-135M's shape in the Llama layout (30 layers, 576 wide, 9 heads over 3 kv heads, SwiGLU 1536, vocabulary
  // 49152, tied head): 134.5M parameters, LoRA r8 on q and v as people fine-tune it. Opt-in (--sizes llama-135M).
  'llama-135M': {
    arch: {
      vocabSize: 49152,
      blockSize: 128,
      nLayer: 30,
      nHead: 9,
      nEmbd: 576,
      mlpRatio: 1536 / 576,
      layerNormEps: 1e-5,
      llama: { nKvHead: 3, intermediateSize: 1536, ropeTheta: 100000, qkvBias: false, tiedHead: true },
    },
    batch: 2,
    lora: { rank: 8, alpha: 16, targets: ['q', 'v'] },
  },
};

export const BENCH_WARMUP = 4; // first steps compile/allocate (wasm code tiers up over the first few); excluded from the median

export interface BenchRow {
  backend: string;
  size: string;
  method: 'lora' | 'full';
  params: number;
  trainable: number;
  batch: number;
  seqLen: number;
  msPerStep: number; // median over the steps after the warm-up
  tokensPerSec: number;
  cpuMsPerStep?: number; // median CPU time per step, where the caller gave a CPU clock (Node)
  peakBytes: number;
  memory: MemoryParts; // the second step's memory by part (peakBytes is its peak)
}

function examples(n: number, a: ModelArch, seed: number): Example[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const ids = Array.from({ length: a.blockSize + 1 }, () => rng.int(a.vocabSize));
    return { recordId: `b${i}`, ids, lossMask: ids.map(() => 1) };
  });
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Times `steps` training steps of `method` on `size` on the current backend. `cpuClock` (ms of CPU time used so far,
 * e.g. from process.cpuUsage in Node) adds CPU time per step: on a shared machine wall time stretches with everyone
 * else's load, CPU time much less.
 */
export async function benchRow(
  size: string,
  method: 'lora' | 'full',
  steps: number,
  embedMode: EmbedMode,
  cpuClock?: () => number,
  onStep?: () => void, // called after each step of the timed run (the GPU bench counts dispatches between calls)
): Promise<BenchRow> {
  const backend = tf.getBackend();
  const { arch, batch, lora: loraOver } = BENCH_SIZES[size];
  const config = (maxSteps: number, peakMemory = false) =>
    mergeConfig(defaultConfig(), {
      model: { name: 'random', arch },
      lora: loraOver,
      train: { method, maxSteps, batchSize: batch, freeze: { embeddings: method === 'lora' } },
      eval: { everySteps: 1_000_000, general: false, peakMemory },
    });
  // as a Session does: a step that cannot fit is refused with its estimate, not left to abort WebAssembly
  const tooBig = stepMemoryProblem(config(1), arch.blockSize, undefined, backend);
  if (tooBig) throw tooBig;
  const model = GPTModel.random(arch, 1);
  const lora = method === 'lora' ? new LoraSet(arch, config(1).lora, 2) : null;
  const view = { params: model.params, arch, lora, embedMode };
  const trainer = (maxSteps: number, peakMemory = false) =>
    new Trainer({
      model: view,
      config: config(maxSteps, peakMemory),
      data: { train: examples(batch * 4, arch, 3), val: examples(batch, arch, 4) },
      tokenizer: new CharTokenizer(),
      backend,
      totalParams: model.numParams,
    });
  const cpu: number[] = []; // CPU time of each step: from one onStep to the next (the first from just before the run)
  let c0 = cpuClock?.() ?? 0;
  const h = await trainer(steps).run({
    onStep: () => {
      onStep?.();
      if (!cpuClock) return;
      const c = cpuClock();
      cpu.push(c - c0);
      c0 = c;
    },
  });
  if (h.end.reason !== 'completed') throw new Error(`bench run on ${backend} ended ${h.end.reason}: ${h.end.message}`);
  const memory = (await trainer(2, true).run()).memory!;
  const timed = h.steps.slice(Math.min(BENCH_WARMUP, h.steps.length - 1));
  const ms = median(timed.map((s) => s.msPerStep));
  const row: BenchRow = {
    backend,
    size,
    method,
    params: model.numParams,
    trainable: h.trainableParams,
    batch,
    seqLen: arch.blockSize,
    msPerStep: +ms.toFixed(1),
    tokensPerSec: Math.round((batch * arch.blockSize * 1000) / ms),
    peakBytes: memory.peak,
    memory,
  };
  if (cpuClock) row.cpuMsPerStep = +median(cpu.slice(Math.min(BENCH_WARMUP, cpu.length - 1))).toFixed(1);
  lora?.dispose();
  model.dispose();
  return row;
}
