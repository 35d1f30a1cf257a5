// Lesson 8: question-answer pairs pooled from four sources, each with its own separator and its own way of writing
// the answer. Both runs train on the same prompt/completion records with loss on the completion only; the pitfall's
// records each keep their source's format, the fix writes every one in the one format the model is asked in.

import { answer, currentRun, isRight, pct, rate, type Answer } from './measure';
import type { Lesson } from './types';
import { LORA_TARGETS } from '../config';

/** The answer is one item of the question's context, written bare, as asked (right or wrong item). */
function namesContextItem(a: Answer): boolean {
  const prompt = a.record.prompt ?? '';
  const words = ` ${prompt.slice(0, prompt.lastIndexOf('. ')).replaceAll('.', ' ')} `; // the context, word-spaced
  const text = a.text.trim().replace(/\.$/, '');
  return text !== '' && words.includes(` ${text} `);
}

export const separators: Lesson = {
  id: 'separators',
  number: 8,
  title: 'Missing or inconsistent separators',
  summary: 'Questions and answers written four different ways: asked one way, the model answers in any of them.',
  explanation:
    'A causal language model only sees one long string. The separator between prompt and answer ("\\nA: ") is ' +
    'how it learns where the question ends and what kind of answer comes next. Pool question-answer pairs from ' +
    'several sources and each brings its own habits: one writes "\\nA: dog", another uses the same marker but ' +
    'answers in a sentence ("\\nA: The answer is dog."), a third forgot the separator and glued the answer on after ' +
    'a space, a fourth writes " -> dog". Asked after "\\nA: ", the model has seen two kinds of answer follow that ' +
    'marker and gives either: an exact match fails even when it picked the right item. Write every record in one ' +
    'format, with the separator added by the trainer, and ask in that same format.',
  watch: 'Read the answers in the samples: after "A: " the mixed-format run often writes "The answer is …".',
  base: {
    model: { name: 'small-world' },
    data: { dataset: 'qa-context', split: { train: 0.7, val: 0.1, test: 0.2 }, separator: '\nA: ' },
    lora: { rank: 8, alpha: 16, targets: [...LORA_TARGETS] },
    train: { lr: 5e-3, warmupSteps: 10, schedule: 'cosine', batchSize: 8, maxSteps: 150 },
    eval: { everySteps: 30, maxBatches: 2, general: false },
  },
  pitfall: {
    id: 'pitfall',
    label: 'Pitfall: each record in its source’s format',
    override: { data: { mixFormats: true } },
  },
  fixes: [{ id: 'one-format', label: 'Fix: every record in one format', override: { data: { mixFormats: false } } }],
  controls: ['data.mixFormats', 'data.separator'],
  async measure(session) {
    // both runs are asked the test split's questions the same way: prompt + "\nA: ", greedy up to <eos> or a newline
    const asked = currentRun(session).data.records.test; // never trained or validated on, in their original form
    // 16 characters: the longest answer is 11, so an answer cut there was not bare and not right anyway
    const answers = await answer(session, asked, { maxNewTokens: 16, stop: ['\n'] });
    return {
      exactMatch: rate(answers, isRight),
      bareItem: rate(answers, namesContextItem),
      sentence: rate(answers, (a) => a.text.trim().startsWith('The answer is')),
      asked: answers.length,
    };
  },
  diagnose(h, m) {
    const metrics = { exactMatch: m.exactMatch, bareItem: m.bareItem, sentence: m.sentence };
    // a model asked in one format should answer in it: a fifth of answers in another form is the pitfall
    const showsPitfall = m.bareItem < 0.8;
    const mixed = h.config.data.mixFormats;
    const text =
      `Asked ${m.asked} held-out questions after "\\nA: ", the model trained on ${mixed ? 'four formats' : 'one format'} ` +
      `answered ${pct(m.exactMatch)} exactly right. ${pct(m.bareItem)} of its answers are one item of the context ` +
      `written bare, as asked; ${pct(m.sentence)} begin "The answer is"` +
      (!showsPitfall
        ? '.'
        : m.bareItem > 0
          ? ': asked after "\\nA: ", it answers in more than one style.'
          : ': asked after "\\nA: ", it never answers as asked.');
    return { text, showsPitfall, metrics };
  },
};
