// Lesson 11: full fine-tuning of small-world on telegrams at a high rate. The task is learned, and the model's grip on
// ordinary text slips: loss on held-out general text climbs. LoRA, a lower rate, frozen layers, replaying
// general text, or elastic weight consolidation each hold it down.

import { forgettingMeasures, moved, num } from './measure';
import type { Lesson } from './types';
import { LORA_TARGETS } from '../config';

export const forgetting: Lesson = {
  id: 'forgetting',
  number: 11,
  title: 'Catastrophic forgetting',
  summary: 'Learning to write telegrams makes the model worse at everything else.',
  explanation:
    'Fine-tuning moves the weights towards the new task, and nothing tells them to stay useful for anything ' +
    'else. Full fine-tuning at a high learning rate on a narrow style (here, telegrams in capitals with STOP between phrases) overwrites what the ' +
    'model knew about ordinary text: its loss on held-out general text rises while the task loss falls. The ' +
    'remedies limit how far the model can move, or remind it of what it knew: LoRA trains a small add-on (here on all six ' +
    'projections of every block; on q and v alone it learned little of the telegram style) and ' +
    'leaves the base weights alone, a lower rate moves less, freezing the lower blocks keeps the general features, ' +
    'replay mixes general text into every batch, and elastic weight consolidation (EWC) first measures which ' +
    'weights matter to general text, then makes moving those weights expensive. (A KL penalty towards the base ' +
    'model’s predictions, train.klToBase, is not among the fixes: it is computed on the task’s own text, where the ' +
    'base model’s predictions are exactly what the task has to change, so it slows the task more than it protects ' +
    'general text.)',
  watch: 'Watch the general-text loss (dashed) climb while the validation loss falls.',
  base: {
    // small-world, not tiny-world: tiny-world's general-text loss (0.32) is so low and brittle that every remedy
    // still left it 5-8 times higher (docs/LESSONS.md); telegram uses only characters small-world saw
    model: { name: 'small-world' },
    data: { dataset: 'telegram', appendEos: false }, // no end marker: the task loss is the style's alone
    train: { method: 'full', lr: 3e-3, batchSize: 8, maxSteps: 60 },
    eval: { everySteps: 10, maxBatches: 4, general: true },
  },
  pitfall: { id: 'pitfall', label: 'Pitfall: full fine-tuning, lr 3e-3', override: {} },
  fixes: [
    // on every projection: on q and v alone (the page's default targets) LoRA learned little of the task and still
    // went over the 3x line on 2 seeds of 4 (docs/LESSONS.md)
    {
      id: 'lora',
      label: 'Fix: LoRA instead (rank 4 on all six projections)',
      override: { train: { method: 'lora' }, lora: { targets: [...LORA_TARGETS] } },
    },
    { id: 'lower-lr', label: 'Fix: lr 3e-4', override: { train: { lr: 3e-4 } } },
    { id: 'freeze', label: 'Fix: freeze the lowest 3 blocks', override: { train: { freeze: { lowestBlocks: 3 } } } },
    { id: 'replay', label: 'Fix: replay general text (half of each batch)', override: { data: { generalMix: 0.5 } } },
    { id: 'ewc', label: 'Fix: elastic weight consolidation (λ = 1)', override: { train: { ewc: 1 } } },
  ],
  controls: ['train.method', 'train.lr', 'train.freeze.lowestBlocks', 'data.generalMix', 'train.klToBase', 'train.ewc'],
  measure: forgettingMeasures,
  diagnose(h, m) {
    const factor = m.generalLoss / m.baseGeneralLoss;
    const metrics = {
      generalFactor: factor,
      generalLoss: m.generalLoss,
      baseGeneralLoss: m.baseGeneralLoss,
      valLoss: m.valLoss,
      baseValLoss: m.baseValLoss,
    };
    const showsPitfall = factor > 3;
    const text =
      `Validation loss on the ${h.config.data.dataset} set ${moved(m.baseValLoss, m.valLoss)} from ${num(m.baseValLoss)} to ${num(m.valLoss)} while loss on held-out general text ${moved(m.baseGeneralLoss, m.generalLoss)} from ${num(m.baseGeneralLoss)} to ${num(m.generalLoss)}, ${num(factor, 1)}× the base model’s` +
      (showsPitfall
        ? ': the model is forgetting what it knew.'
        : factor < 1.5
          ? ': most of the general skill survived.'
          : '.');
    return { text, showsPitfall, metrics };
  },
};
