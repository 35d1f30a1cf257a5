// The one lesson runner (runLesson) the page, the CLI and the tests share: config order (defaults, base, variant,
// caller, then each trial's own override), per-trial callbacks, and a stopped trial leaving nothing to diagnose.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moved } from '../../src/core/lessons/measure';
import { LessonStopped, runLesson } from '../../src/core/lessons/runner';
import type { Lesson } from '../../src/core/lessons/types';
import { Session } from '../../src/core/session';
import { TINY } from '../helpers/tiny';

/** The tiny test shape with the character tokenizer's vocabulary and room for a prompt and its answer. */
const ARCH = { ...TINY, vocabSize: 99, blockSize: 16 };

const records = Array.from({ length: 40 }, (_, i) => ({ id: `r${i}`, prompt: `${i % 7}`, completion: `${i % 3}` }));
const noFiles = {
  bytes: () => Promise.reject(new Error('no files here')),
  text: () => Promise.reject(new Error('no files here')),
};

/** A lesson on a tiny random model whose one fix is a two-point search over the learning rate. */
const lesson: Lesson = {
  id: 'test-lesson',
  number: 0,
  title: 'test',
  summary: '',
  explanation: '',
  watch: '',
  base: {
    model: { name: 'random', arch: ARCH, backend: 'cpu' },
    data: { dataset: 'custom' },
    train: { batchSize: 4, maxSteps: 6, lr: 1e-3 },
    eval: { everySteps: 2, general: false },
  },
  pitfall: { id: 'pitfall', label: 'Pitfall', override: { train: { lr: 5e-2 } } },
  fixes: [
    {
      id: 'search',
      label: 'Fix: search',
      override: {},
      trials: {
        kind: 'search',
        runs: [
          { label: 'lr 1e-2', override: { train: { lr: 1e-2 } } },
          { label: 'lr 3e-3', override: { train: { lr: 3e-3 } } },
        ],
      },
    },
  ],
  controls: [],
  measure: async (_s, h) => ({ steps: h.steps.length }),
  diagnose: (h, m) => ({
    text: `${m.steps} steps at lr ${h.config.train.lr}`,
    showsPitfall: h.config.train.lr > 1e-2,
    metrics: { steps: m.steps },
  }),
};

let session: Session;
beforeAll(async () => {
  session = await Session.create({ loader: noFiles, backend: 'cpu' });
});
afterAll(() => session.dispose());

describe('runLesson', () => {
  it("the caller's settings go over the variant's, and each trial's own override over everything", async () => {
    const started: string[] = [];
    const r = await runLesson(session, lesson, 'search', {
      custom: records,
      override: { train: { maxSteps: 4, lr: 0.5 } }, // a shorter run; the lr is the trials' to set
      onTrialStart: (run, label, index, of) => {
        started.push(`${label} ${index + 1}/${of} lr ${run.config.train.lr}`);
      },
    });
    expect(started).toEqual(['lr 1e-2 1/2 lr 0.01', 'lr 3e-3 2/2 lr 0.003']);
    expect(r.trials.map((t) => [t.config.train.lr, t.history.steps.length])).toEqual([
      [0.01, 4],
      [0.003, 4],
    ]);
    expect(r.measures.trialCount).toBe(2);
    expect(r.diagnosis.text).toMatch(/^4 steps at lr 0\.0(1|03)$/);
  });

  it('callbacks returned by onTrialStart hear that trial; a trial stopped by the user ends the lesson run with LessonStopped', async () => {
    let steps = 0;
    const run = runLesson(session, lesson, 'pitfall', {
      custom: records,
      onTrialStart: () => ({
        onStep: (e) => {
          steps = e.step;
          if (e.step === 2) session.current!.trainer.stop();
        },
      }),
    });
    await expect(run).rejects.toBeInstanceOf(LessonStopped);
    await expect(run).rejects.toThrow(/stopped during "Pitfall", so there is nothing to diagnose/);
    expect(steps).toBe(2);
  });
});

describe('diagnosis wording', () => {
  it('says a figure rose or fell only when it changed at the precision shown', () => {
    expect(moved(1, 2)).toBe('rose');
    expect(moved(2, 1)).toBe('fell');
    // a run that trained nothing: "fell from 13.88 to 13.88" was printed before
    expect(moved(13.88, 13.88)).toBe('went');
    expect(moved(13.881, 13.879)).toBe('went');
    expect(moved(0.554, 0.558)).toBe('rose'); // printed 0.55 and 0.56
  });
});
