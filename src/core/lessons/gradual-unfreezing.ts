// Lesson 14: full fine-tuning with every block open from the first step, against gradual unfreezing (top block
// first, one more every epoch) and discriminative learning rates (lower blocks learn more slowly), as in
// ULMFiT (Howard & Ruder 2018). As there, the rate decays over the run (linearly here, as in the Hugging Face
// Trainer's default), so a block that opens late moves with a smaller rate than the top block had at the start.

import { forgettingMeasures, moved, num } from './measure';

const EPOCHS = 4; // every block has opened after 3 epochs with one more per epoch; the last trains for one more
import type { Lesson } from './types';

export const gradualUnfreezing: Lesson = {
  id: 'gradual-unfreezing',
  number: 14,
  title: 'Gradual unfreezing and discriminative learning rates',
  summary: 'Open the top block first and let lower blocks learn slower, instead of shaking the whole model at once.',
  explanation:
    'Lower blocks of a pretrained model hold general features (spelling, common words); upper blocks hold more ' +
    'task-specific ones. Unfreezing everything at once with one learning rate lets the first, large and noisy ' +
    'gradients of the new task shake the general features loose. Gradual unfreezing trains only the top block ' +
    'at first and opens one more block at a time, so the upper layers have adapted before the lower ones move. ' +
    'Discriminative learning rates give each block lower down a smaller rate (here half the rate of the block ' +
    'above). Both keep what the lower blocks know, which shows as less forgetting of general text. Every run here ' +
    'lowers its rate over the run, as ULMFiT and the Hugging Face Trainer do (here in a straight line from 3e-3 ' +
    'to a tenth of it), and ' +
    'with gradual unfreezing that means each block opens at a smaller rate than the one above it did. (With ' +
    'a constant rate, gradual unfreezing alone still left general-text loss at 5.6 times the base model’s on ' +
    'average over three seeds: once the last block opens, every block moves at the full rate.)',
  watch: 'Watch the general-text loss: it rises quickly when everything is open, slowly when blocks open one by one.',
  base: {
    // the same model and style as lesson 11 (catastrophic forgetting), for the same reason
    model: { name: 'small-world' },
    data: { dataset: 'telegram', appendEos: false },
    // linear decay: with a constant rate, gradual unfreezing alone helped on no seed (docs/LESSONS.md)
    train: { method: 'full', lr: 3e-3, schedule: 'linear', batchSize: 8, maxSteps: 0, epochs: EPOCHS },
    eval: { everySteps: 10, maxBatches: 4, general: true },
  },
  pitfall: { id: 'pitfall', label: 'Pitfall: all blocks open, one rate for all', override: {} },
  fixes: [
    { id: 'gradual', label: 'Fix: gradual unfreezing', override: { train: { freeze: { gradualUnfreezeEvery: 1 } } } },
    {
      id: 'discriminative',
      label: 'Fix: discriminative rates (×0.5 per block)',
      override: { train: { freeze: { layerLrDecay: 0.5 } } },
    },
    { id: 'both', label: 'Fix: both', override: { train: { freeze: { gradualUnfreezeEvery: 1, layerLrDecay: 0.5 } } } },
  ],
  controls: ['train.freeze.gradualUnfreezeEvery', 'train.freeze.layerLrDecay', 'train.lr', 'train.schedule'],
  measure: forgettingMeasures,
  diagnose(h, m) {
    const factor = m.generalLoss / m.baseGeneralLoss;
    const f = h.config.train.freeze;
    const nLayer = h.config.model.arch.nLayer;
    const epochs = h.steps.at(-1)?.epoch ?? 0;
    // blocks open at the end: the top one from the start, one more every gradualUnfreezeEvery epochs
    const opened =
      f.gradualUnfreezeEvery > 0 ? Math.min(nLayer, 1 + Math.floor(epochs / f.gradualUnfreezeEvery)) : nLayer;
    const every = `${f.gradualUnfreezeEvery} epoch${f.gradualUnfreezeEvery === 1 ? '' : 's'}`;
    const how = [
      f.gradualUnfreezeEvery > 0
        ? `one more block opened every ${every} (${opened === nLayer ? `all ${nLayer} open from epoch ${(nLayer - 1) * f.gradualUnfreezeEvery} of ${num(epochs, 1)}` : `only ${opened} of ${nLayer} open by the end, epoch ${num(epochs, 1)}`})`
        : 'every block open from the start',
      f.layerLrDecay < 1 ? `rates ×${f.layerLrDecay} per block down` : 'one rate for all',
    ].join(' and ');
    const metrics = {
      generalFactor: factor,
      generalLoss: m.generalLoss,
      valLoss: m.valLoss,
      baseValLoss: m.baseValLoss,
      blocksOpened: opened,
      epochs,
    };
    const showsPitfall = factor > 3;
    const text =
      `With ${how}, loss on general text ${moved(m.baseGeneralLoss, m.generalLoss)} from ${num(m.baseGeneralLoss)} to ${num(m.generalLoss)} (${num(factor, 1)}× the base model’s) while validation loss on the ${h.config.data.dataset} set ${moved(m.baseValLoss, m.valLoss)} from ${num(m.baseValLoss)} to ${num(m.valLoss)}` +
      (showsPitfall ? ': the pretrained features were shaken loose.' : '.');
    return { text, showsPitfall, metrics };
  },
};
