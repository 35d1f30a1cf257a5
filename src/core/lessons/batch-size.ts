// Lesson 5: batch size and gradient accumulation. The same 256 examples, seen one at a time (256 noisy updates)
// or eight at a time (32 steadier updates, with accumulation needing only one example's memory).

import { currentRun, lossOn, num, roughness } from './measure';
import type { Lesson } from './types';

const EXAMPLES = 256;

export const batchSize: Lesson = {
  id: 'batch-size',
  number: 5,
  title: 'Batch size and gradient accumulation',
  summary: 'One example per update makes every step a guess; accumulation averages without the memory.',
  explanation:
    'Each update follows the gradient of one batch, an estimate of the gradient over the whole dataset. With ' +
    'a batch of one, that estimate depends on which single example came up: the loss zig-zags from step to step ' +
    'and, at a learning rate this high, the weights wander instead of settling. A larger batch averages the noise ' +
    'away (or, the other way round, a batch of one needs a much smaller rate). When memory is what limits the batch, ' +
    'gradient accumulation runs several small batches, adds up their gradients and makes one update: the same ' +
    'average at the memory cost of one small batch. Here every variant sees the same number of examples, so ' +
    'the compute is equal; only how they are grouped into updates differs.',
  watch: 'Compare the roughness of the loss curves: the batch of one zig-zags, the accumulated batch is smooth.',
  base: {
    data: { dataset: 'qa' },
    train: { lr: 1e-2, batchSize: 1, gradAccumSteps: 1, maxSteps: EXAMPLES },
    eval: { everySteps: 32, maxBatches: 0, general: false },
  },
  pitfall: { id: 'pitfall', label: `Pitfall: batch 1 (${EXAMPLES} updates)`, override: {} },
  fixes: [
    { id: 'accumulate', label: 'Fix: batch 1 × accumulate 8', override: { train: { gradAccumSteps: 8, maxSteps: EXAMPLES / 8 }, eval: { everySteps: 4 } } },
    { id: 'larger-batch', label: 'Fix: batch 8', override: { train: { batchSize: 8, maxSteps: EXAMPLES / 8 }, eval: { everySteps: 4 } } },
  ],
  controls: ['train.batchSize', 'train.gradAccumSteps', 'train.maxSteps', 'train.lr'],
  async measure(session) {
    return { valLoss: await lossOn(session, currentRun(session).data.val) };
  },
  diagnose(h, m) {
    const t = h.config.train;
    const rough = roughness(h);
    const perUpdate = t.batchSize * t.gradAccumSteps;
    const metrics = { roughness: rough, valLoss: m.valLoss, examplesPerUpdate: perUpdate, updates: h.steps.length };
    const showsPitfall = rough > 1;
    const how = t.gradAccumSteps > 1 ? `${t.gradAccumSteps} accumulated batches of ${t.batchSize}` : `batches of ${t.batchSize}`;
    const text =
      `With ${how} (${perUpdate} example${perUpdate === 1 ? '' : 's'} per update, ${h.steps.length} updates) the loss moved by ${num(rough)} from one step to the next (standard deviation) ` +
      `and validation loss ended at ${num(m.valLoss)}: ${showsPitfall ? 'noisy updates.' : 'steady updates.'}`;
    return { text, showsPitfall, metrics };
  },
};
