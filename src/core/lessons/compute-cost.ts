// Lesson 12: what full fine-tuning costs next to LoRA on the same task: trainable parameters, memory held by
// tensors, time per step, and the size of what has to be saved, against the quality each reaches.

import { writeSafetensors } from '../model/safetensors';
import type { MemoryParts } from '../train/memory';
import { currentRun, lossOn, num, pct } from './measure';
import type { Lesson } from './types';

const kb = (bytes: number) => `${num(bytes / 1024, 0)} KB`;

/** The watched step's memory by part (train/memory.ts), as flat metrics. */
function partsOf(m: MemoryParts | undefined): Record<string, number> {
  if (!m) return {};
  return {
    frozenWeightBytes: m.frozenWeights,
    trainableWeightBytes: m.trainableWeights,
    optimizerStateBytes: m.optimizerState,
    copyBytes: m.copies,
    activationBytes: m.activations,
    gradientBytes: m.gradients,
    temporaryBytes: m.temporaries,
  };
}

export const computeCost: Lesson = {
  id: 'compute-cost',
  number: 12,
  title: 'The cost of full fine-tuning',
  summary: 'Full fine-tuning trains and saves every weight; LoRA gets close for a fraction of it.',
  explanation:
    'Full fine-tuning gives every weight a gradient and, with AdamW, two more numbers of optimiser state, and the ' +
    'run keeps a copy of the weights to roll back to if it diverges: the memory it holds is several times the model, ' +
    'and every fine-tuned version is a full copy of the model on disk. LoRA freezes the base and trains two thin ' +
    'matrices per adapted projection: here under 4% of the parameters, a few dozen kilobytes to save and almost no ' +
    'optimiser state; a frozen projection also keeps no input for a weight gradient nobody needs. Within a step both ' +
    'methods keep activations for the backward pass, and on a model this small, with batches of 128-character ' +
    'sequences, these outweigh all the weights: LoRA peaks lower, but not by the factor its parameter count ' +
    'suggests. On big models the weights dominate, and the saving is what makes fine-tuning fit on one GPU at all. ' +
    'The time per step is similar here, since the frozen weights still run forward and backward. The price is a ' +
    'little quality on some tasks: compare the validation losses.',
  watch:
    'Compare trainable parameters and the parts of the peak memory (weights, optimiser state, activations, gradients) ' +
    'in the diagnosis, then the final validation losses.',
  base: {
    model: { name: 'tiny-world' },
    data: { dataset: 'qa' },
    train: { batchSize: 8, maxSteps: 40 },
    eval: { everySteps: 10, maxBatches: 0, general: false, peakMemory: true },
  },
  pitfall: { id: 'pitfall', label: 'Full fine-tuning, lr 1e-3', override: { train: { method: 'full', lr: 1e-3 } } },
  fixes: [
    {
      id: 'lora',
      label: 'LoRA, rank 4 (alpha 8) on the attention projections, lr 5e-3',
      override: { train: { method: 'lora', lr: 5e-3 }, lora: { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'o'] } },
    },
  ],
  controls: ['train.method', 'lora.rank', 'lora.targets'],
  async measure(session, h) {
    const run = currentRun(session);
    // what has to be saved: the adapter's A and B matrices, or every weight of the fine-tuned model
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    const vars = run.lora ? run.lora.variables() : Object.values(session.model.params);
    for (const v of vars) tensors.set(v.name, { shape: v.shape, data: (await v.data()) as Float32Array });
    const ms = h.steps
      .slice(2)
      .map((s) => s.msPerStep)
      .sort((a, b) => a - b); // the first steps warm up kernels
    return {
      trainableParams: h.trainableParams,
      totalParams: h.totalParams,
      // what stays between steps (weights, optimizer state), and the high-water mark within a step, activations included
      heldMemory: Math.max(...h.steps.map((s) => s.numBytes)),
      peakMemory: h.peakBytes ?? NaN,
      ...partsOf(h.memory),
      msPerStep: ms[Math.floor(ms.length / 2)] ?? NaN,
      savedBytes: writeSafetensors(tensors).length,
      valLoss: await lossOn(session, run.data.val),
    };
  },
  diagnose(h, m) {
    const share = m.trainableParams / m.totalParams;
    const metrics: Record<string, number> = {
      trainableParams: m.trainableParams,
      trainableShare: share,
      heldMemory: m.heldMemory,
      peakMemory: m.peakMemory,
      msPerStep: m.msPerStep,
      savedBytes: m.savedBytes,
      valLoss: m.valLoss,
    };
    for (const k of Object.keys(m)) if (k.endsWith('Bytes')) metrics[k] = m[k];
    const what = h.config.train.method === 'full' ? 'Full fine-tuning' : `LoRA (rank ${h.config.lora.rank})`;
    const weights = m.frozenWeightBytes + m.trainableWeightBytes;
    const parts =
      m.activationBytes === undefined
        ? ''
        : `: the weights ${kb(weights)} (${kb(m.trainableWeightBytes)} of them training), optimizer state ${kb(m.optimizerStateBytes)}, ` +
          `the run's snapshots and other tensors ${kb(m.copyBytes)}, activations kept for the backward pass ${kb(m.activationBytes)}, ` +
          `gradients ${kb(m.gradientBytes)} and working memory ${kb(m.temporaryBytes)}`;
    const text =
      `${what} trained ${m.trainableParams.toLocaleString('en-US')} of ${m.totalParams.toLocaleString('en-US')} parameters (${pct(share)}). ` +
      `At the peak of a step it held ${kb(m.peakMemory)}${parts}. ` +
      `It took ${num(m.msPerStep, 0)} ms per step and saves a ${kb(m.savedBytes)} file, reaching validation loss ${num(m.valLoss)}.`;
    return { text, showsPitfall: share > 0.5, metrics };
  },
};
