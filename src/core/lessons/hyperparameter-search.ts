// Lesson 13: one guessed setting against a small grid search and a random search over learning rate and LoRA
// rank, judged on validation loss and confirmed on the untouched test split. The searches cost several runs.

import type { DeepPartial, RunConfig } from '../config';
import { Rng } from '../rng';
import { baseLossOn, currentRun, lossOn, num, pct } from './measure';
import type { Lesson } from './types';

const trial = (lr: number, rank: number) => ({
  label: `lr ${lr.toExponential(0)}, rank ${rank}`,
  override: { train: { lr }, lora: { rank, alpha: 2 * rank } } satisfies DeepPartial<RunConfig>,
});

/**
 * The guess: the libraries' own defaults, what a practitioner runs before searching: the Hugging Face Trainer's
 * learning rate (5e-5) and PEFT's LoraConfig (r 8, lora_alpha 8). They were chosen for other models and tasks.
 * (The page's own defaults, lr 3e-3 and rank 4, already get about 65% of the way here: docs/LESSONS.md.)
 */
const GUESS = { lr: 5e-5, rank: 8, alpha: 8 };

const GRID = [1e-3, 3e-3, 1e-2].flatMap((lr) => [2, 8].map((rank) => trial(lr, rank)));

/** Six draws: lr log-uniform in [3e-4, 3e-2], rank from 1..16 in powers of two (seeded: the same six every time). */
const RANDOM = (() => {
  const rng = new Rng(13);
  return Array.from({ length: 6 }, () => trial(+(3e-4 * 100 ** rng.next()).toPrecision(1), 2 ** rng.int(5)));
})();

export const hyperparameterSearch: Lesson = {
  id: 'hyperparameter-search',
  number: 13,
  title: 'Hyperparameter search',
  summary: 'The libraries’ default learning rate and rank, against six runs of a grid or a random search.',
  explanation:
    'Learning rate and adapter rank are not known in advance: the best values depend on the model, the data and ' +
    'the number of steps. Even a well-known default, like the Hugging Face Trainer’s learning rate (5e-5) with ' +
    'PEFT’s rank 8, was chosen for other models and tasks. A search trains several short runs and keeps the one with the ' +
    'lowest validation loss. A grid tries every combination of a few values; a random search draws values from a ' +
    'range, which covers each single setting more finely for the same number of runs. Either costs several times ' +
    'the compute of one run. Because the winner was picked on the validation split, its validation loss is a ' +
    'little optimistic: the untouched test split gives the honest figure.',
  watch: 'The results table lists every trial; the chosen one is marked.',
  base: {
    model: { name: 'tiny-world' },
    data: { dataset: 'qa' },
    train: { batchSize: 8, maxSteps: 40 },
    eval: { everySteps: 10, maxBatches: 0, general: false },
  },
  pitfall: {
    id: 'pitfall',
    label: `Pitfall: one run at the library defaults (lr ${GUESS.lr.toExponential(0)}, rank ${GUESS.rank}, alpha ${GUESS.alpha})`,
    override: { train: { lr: GUESS.lr }, lora: { rank: GUESS.rank, alpha: GUESS.alpha } },
  },
  fixes: [
    { id: 'grid', label: 'Fix: grid search, 6 runs', override: {}, trials: { kind: 'search', runs: GRID } },
    { id: 'random', label: 'Fix: random search, 6 runs', override: {}, trials: { kind: 'search', runs: RANDOM } },
  ],
  controls: ['train.lr', 'lora.rank', 'train.maxSteps'],
  async measure(session) {
    const run = currentRun(session);
    return {
      baseValLoss: await baseLossOn(session, run.data.val),
      valLoss: await lossOn(session, run.data.val),
      testLoss: await lossOn(session, run.data.test),
    };
  },
  diagnose(h, m) {
    const gain = (m.baseValLoss - m.valLoss) / m.baseValLoss;
    const metrics: Record<string, number> = {
      valLoss: m.valLoss,
      testLoss: m.testLoss,
      gain,
      lr: h.config.train.lr,
      rank: h.config.lora.rank,
      runs: m.trialCount ?? 1,
      steps: m.trialSteps ?? h.steps.length,
    };
    const showsPitfall = gain < 0.5;
    const setting = `lr ${h.config.train.lr.toExponential(0)} and rank ${h.config.lora.rank}`;
    // picked for the lowest validation loss, the winner's validation figure flatters it when its test loss is higher
    const optimistic = m.testLoss > m.valLoss * 1.02;
    const text = m.trialCount
      ? `Of ${m.trialCount} runs (${m.trialSteps} steps in all, ${num(m.trialSeconds, 0)} s) the best used ${setting}: validation loss ${num(m.valLoss)} (test ${num(m.testLoss)}), ${pct(gain)} below the base model; the worst trial reached ${num(m.trialValLossMax)}` +
        (optimistic
          ? `, and the winner's test loss is ${pct(m.testLoss / m.valLoss - 1)} above its validation loss, the price of choosing on validation.`
          : '.')
      : `One run with ${setting} reached validation loss ${num(m.valLoss)} (test ${num(m.testLoss)}), ${pct(gain)} below the base model${showsPitfall ? ': less than half the way from the base model to a perfect fit, with nothing to say whether another setting would do better.' : '.'}`;
    return { text, showsPitfall, metrics };
  },
};
