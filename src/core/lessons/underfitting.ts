// Lesson 2: a learning rate too small for LoRA and too few steps: the adapter barely moves away from the base
// model, so training and validation loss both stay high.

import { baseLossOn, currentRun, finalValLoss, num, pct, trainLossTail } from './measure';
import type { Lesson } from './types';

export const underfitting: Lesson = {
  id: 'underfitting',
  number: 2,
  title: 'Underfitting: too little learning',
  summary: 'A tiny learning rate and a short run leave the model almost where it started.',
  explanation:
    'A fresh LoRA adapter starts at zero, so the fine-tuned model begins exactly as the base model. With a very ' +
    'small learning rate and few steps, each update nudges the adapter so little that the run ends before ' +
    'anything is learned: training and validation loss are both still high and close together. That is ' +
    'underfitting, the opposite of overfitting. A learning rate suited to LoRA, a short warmup so the first ' +
    'steps are gentle, a cosine decay so the last steps settle, and enough steps fix it.',
  watch: 'Both curves stay high and flat, close to each other; compare the end with the base model’s validation loss.',
  base: {
    model: { name: 'tiny-world' },
    data: { dataset: 'qa' },
    train: { batchSize: 8 },
    eval: { everySteps: 5, maxBatches: 0, general: false },
  },
  pitfall: { id: 'pitfall', label: 'Pitfall: lr 1e-4, 20 steps', override: { train: { lr: 1e-4, maxSteps: 20 } } },
  fixes: [
    {
      id: 'warmup-cosine',
      label: 'Fix: lr 3e-3, warmup + cosine, 80 steps',
      override: { train: { lr: 3e-3, warmupSteps: 8, schedule: 'cosine', maxSteps: 80 }, eval: { everySteps: 10 } },
    },
    { id: 'higher-lr', label: 'Fix: lr 3e-3, same 20 steps', override: { train: { lr: 3e-3, maxSteps: 20 } } },
  ],
  controls: ['train.lr', 'train.maxSteps', 'train.warmupSteps', 'train.schedule'],
  async measure(session) {
    return { baseValLoss: await baseLossOn(session, currentRun(session).data.val) };
  },
  diagnose(h, m) {
    const final = finalValLoss(h);
    const gain = (m.baseValLoss - final) / m.baseValLoss;
    const trainLoss = trainLossTail(h, 5);
    const metrics = { baseValLoss: m.baseValLoss, finalValLoss: final, gain, trainLoss, steps: h.steps.length };
    const showsPitfall = gain < 0.25;
    const text = showsPitfall
      ? `After ${h.steps.length} steps validation loss is ${num(final)}, only ${pct(gain)} below the base model’s ${num(m.baseValLoss)}, and training loss (${num(trainLoss)}) is ` +
        (trainLoss > 0.8 * final
          ? 'just as high: underfitting.'
          : 'far lower, so the model is fitting its records without generalising.')
      : `After ${h.steps.length} steps validation loss is ${num(final)}, ${pct(gain)} below the base model’s ${num(m.baseValLoss)}` +
        (gain >= 0.5 ? ': the adapter has learned the task.' : '.');
    return { text, showsPitfall, metrics };
  },
};
