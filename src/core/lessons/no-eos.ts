// Lesson 9: completions trained without an end-of-sequence marker. The model learns the answer but not where it
// ends, so generation rambles on until the token budget runs out.

import { exactMatch } from '../rules';
import { answer, currentRun, mean, num, pct, rate } from './measure';
import type { Lesson } from './types';
import { LORA_TARGETS } from '../config';

export const noEos: Lesson = {
  id: 'no-eos',
  number: 9,
  title: 'No end-of-sequence marker',
  summary: 'Without an end marker the model never learns to stop talking.',
  explanation:
    'Generation stops when the model produces the end-of-sequence token, or when the token budget runs out. If ' +
    'every training completion ends with that token, the model learns to emit it right after the answer. Train ' +
    'without it and the model has never seen an answer end: it writes the answer and keeps going with whatever ' +
    'seems likely next, until the budget cuts it off. The fix is to train the marker. At generation time, a stop ' +
    'sequence (cut the text at a newline) or a small token budget limit the damage, but they are patches: they ' +
    'only work if the model happens to write the stop text, or if the budget happens to fit the answer.',
  watch: 'Read the samples: the answer is there, followed by a run-on tail.',
  base: {
    model: { name: 'tiny-world' },
    data: { dataset: 'qa' },
    lora: { rank: 8, alpha: 16, targets: [...LORA_TARGETS] },
    train: { lr: 5e-3, batchSize: 8, maxSteps: 80 },
    eval: { everySteps: 20, maxBatches: 0, general: false, maxNewTokens: 32, stop: [] },
  },
  pitfall: { id: 'pitfall', label: 'Pitfall: no end marker', override: { data: { appendEos: false } } },
  fixes: [
    { id: 'train-eos', label: 'Fix: train the end marker', override: { data: { appendEos: true } } },
    {
      id: 'stop-sequence',
      label: 'Patch: stop at a newline',
      override: { data: { appendEos: false }, eval: { stop: ['\n'] } },
    },
    {
      id: 'max-tokens',
      label: 'Patch: budget of 12 tokens',
      override: { data: { appendEos: false }, eval: { maxNewTokens: 12 } },
    },
  ],
  controls: ['data.appendEos', 'eval.stop', 'eval.maxNewTokens'],
  async measure(session, h) {
    const run = currentRun(session);
    const asked = [...run.data.records.val, ...run.data.records.test];
    const answers = await answer(session, asked, {
      maxNewTokens: h.config.eval.maxNewTokens,
      stop: h.config.eval.stop,
    });
    return {
      cleanStops: rate(answers, (a) => a.stopped),
      exactMatch: rate(answers, (a) => exactMatch(a.text, a.record.completion ?? '')),
      answerChars: mean(answers.map((a) => a.text.length)),
      expectedChars: mean(asked.map((r) => (r.completion ?? '').length)),
      asked: asked.length,
    };
  },
  diagnose(_h, m) {
    const metrics = { cleanStops: m.cleanStops, answerChars: m.answerChars, exactMatch: m.exactMatch };
    const showsPitfall = m.cleanStops < 0.5;
    const text =
      `${pct(m.cleanStops)} of ${m.asked} answers ended before the token budget ran out; they average ${num(m.answerChars, 0)} characters where ${num(m.expectedChars, 0)} were expected, and ${pct(m.exactMatch)} match exactly` +
      (showsPitfall ? ': the model does not know where an answer ends.' : '.');
    return { text, showsPitfall, metrics };
  },
};
