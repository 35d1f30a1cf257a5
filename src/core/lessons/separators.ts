// Lesson 8: the same kind of question-answer pairs written four different ways (\nA: , ->, Answer:, nothing at
// all). The model has to learn every format and cannot tell where a question stops; one consistent format fixes it.

import { loadDataset } from '../data/prepare';
import { splitRecords } from '../data/split';
import { formatRecord } from '../data/format';
import { currentRun, lossOn, num } from './measure';
import type { Lesson } from './types';

/** Questions in the one format the page asks in: the qa dataset's test split, never trained on by the fix. */
const PROBE_DATASET = 'qa';
const PROBE_SEPARATOR = '\nA: ';

export const separators: Lesson = {
  id: 'separators',
  number: 8,
  title: 'Missing or inconsistent separators',
  summary: 'Questions and answers glued together four different ways: the model cannot tell where to answer.',
  explanation:
    'A causal language model only sees one long string. The separator between prompt and answer ("\\nA: ") is ' +
    'how it learns where the question ends and its answer should begin. In this dataset each record is written ' +
    'its own way: "\\nAnswer: Dog.", " -> dog", or the answer glued straight onto the question. The model spends ' +
    'its training learning four formats instead of one task, and when asked a question it has to guess which ' +
    'format, and which spelling of the answer, is wanted. Rewrite every record in one format, with the separator ' +
    'added by the trainer, and ask in that same format.',
  watch: 'Compare the answers in the samples: the mixed-format run adds stray words, capitals and arrows.',
  base: {
    data: { maxRecords: 160, separator: PROBE_SEPARATOR },
    train: { lr: 3e-3, batchSize: 8, maxSteps: 80 },
    eval: { everySteps: 20, maxBatches: 0, general: false },
  },
  pitfall: { id: 'pitfall', label: 'Pitfall: four formats mixed', override: { data: { dataset: 'qa-mixed' } } },
  fixes: [{ id: 'one-format', label: 'Fix: one format with a separator', override: { data: { dataset: 'qa' } } }],
  controls: ['data.dataset', 'data.separator'],
  async measure(session, h) {
    const probes = splitRecords(
      await loadDataset(session.opts.loader, PROBE_DATASET),
      h.config.data.split,
      h.config.train.seed,
    ).test;
    // both runs are asked the same way: prompt + "\nA: ", the answer scored up to its end marker
    const fmt = {
      separator: PROBE_SEPARATOR,
      appendEos: true,
      lossOnPromptTokens: false,
      blockSize: currentRun(session).view.arch.blockSize,
    };
    return {
      answerLoss: await lossOn(
        session,
        probes.map((r) => formatRecord(r, session.tokenizer, fmt)),
      ),
      probes: probes.length,
    };
  },
  diagnose(h, m) {
    const metrics = { answerLoss: m.answerLoss };
    const showsPitfall = m.answerLoss > 1.8;
    const mixed = h.config.data.dataset !== PROBE_DATASET;
    const text =
      `Asked ${m.probes} held-out questions in the "\\nA: " format, the model trained on ${mixed ? 'mixed formats' : 'one format'} has a loss of ${num(m.answerLoss)} per answer character` +
      (showsPitfall ? ': it cannot tell where the question ends and how the answer should look.' : '.');
    return { text, showsPitfall, metrics };
  },
};
