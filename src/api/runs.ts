// The trainer API's runs: a run or a lesson started, its progress streamed to the page, paused, resumed or
// stopped, and samples taken from the model (mid-run between two steps, so the weights hold still).

import { isPromptCompletion, promptText } from '../core/data/format';
import type { DataRecord } from '../core/data/types';
import { generate } from '../core/eval/generate';
import { lessonById } from '../core/lessons/index';
import { LessonStopped, runLesson } from '../core/lessons/runner';
import { lessonConfig } from '../core/rules';
import type { Run, Session } from '../core/session';
import type { RunHistory, TrainCallbacks } from '../core/train/types';
import type { RunListener, TrainerApi } from '../protocol';
import { ProgressBatcher } from './progress';
import type { Workspace } from './workspace';

/** At most four progress messages a second reach the page. */
export const PROGRESS_MS = 250;
/** Tokens of the sample taken at each evaluation when the data has no questions to answer. */
const SAMPLE_TOKENS = 32;

/** The prompt whose completion is sampled at each evaluation: the first validation record's. */
function samplePrompt(records: DataRecord[], separator: string): string | null {
  const r = records[0];
  if (!r) return null;
  if (isPromptCompletion(r)) return promptText(r, separator);
  return (r.text ?? '').slice(0, 40) || null;
}

/**
 * Callbacks that stream a prepared run's start, steps, evaluations and samples to the page; done() flushes the
 * rest. The trainer awaits them, so the sample of an evaluation reads that evaluation's weights.
 */
function streamRun(ws: Workspace, s: Session, run: Run, listener: RunListener) {
  const batcher = new ProgressBatcher((p) => listener.progress(p), PROGRESS_MS, ws.transfer);
  const prompt = samplePrompt(run.data.records.val, run.config.data.separator);
  const callbacks: TrainCallbacks = {
    onStart: (e) => {
      void Promise.resolve(listener.started({ ...e, totalParams: s.model.numParams, state: ws.state() })).catch(
        () => undefined,
      );
    },
    onStep: (e) => batcher.step(e),
    onEval: async (e) => {
      batcher.eval(e);
      // prompt and completion data: the trainer answered the first validation question; plain text: continue it
      if (e.sample) batcher.sample({ step: e.step, ...e.sample });
      else if (prompt !== null) {
        const g = await s
          .generate(prompt, { maxTokens: SAMPLE_TOKENS, temperature: 0, topK: 0, stop: ['\n'], seed: 0 }, true)
          .catch(() => null);
        if (g) batcher.sample({ step: e.step, prompt, text: g.text });
      }
    },
  };
  return { callbacks, done: () => batcher.flush() };
}

export function runMethods(ws: Workspace) {
  return {
    async start(config, custom, listener) {
      return ws.asTheTrainingJob(async (s) => {
        await ws.ensureModel(s, config);
        const run = await s.prepare(config, custom ?? undefined);
        const stream = streamRun(ws, s, run, listener);
        const history = await s.train(stream.callbacks);
        stream.done();
        return { history, state: ws.state() };
      });
    },

    async runLesson(lessonId, variantId, override, listener) {
      const lesson = lessonById(lessonId);
      return ws.asTheTrainingJob(async (s) => {
        await ws.ensureModel(s, lessonConfig(lesson, variantId, override));
        // the same core function the CLI and the tests run; each trial streams to the page as a run of its own
        let stream: ReturnType<typeof streamRun> | null = null;
        let trial = { label: '', index: 0 };
        // the trial's last progress, then its end, reach the page before the next trial starts or the outcome
        const end = async (history: RunHistory, seconds: number) => {
          stream?.done();
          stream = null;
          await listener.trialEnd({ ...trial, history, seconds, state: ws.state() });
        };
        try {
          const result = await runLesson(s, lesson, variantId, {
            override,
            onTrialStart: (run, label, index, of) => {
              trial = { label, index };
              void Promise.resolve(listener.trialStart({ label, index, of, config: run.config })).catch(
                () => undefined,
              );
              stream = streamRun(ws, s, run, listener);
              return stream.callbacks;
            },
            onTrial: (t) => end(t.history, t.seconds),
          });
          const { diagnosis, measures, variant } = result;
          return {
            lesson: lessonId,
            variant,
            diagnosis,
            measures,
            trials: result.trials.map((t) => ({ label: t.label, seconds: t.seconds })),
            state: ws.state(),
          };
        } catch (e) {
          if (e instanceof LessonStopped) await end(e.history, NaN);
          throw e;
        }
      });
    },

    async pause() {
      if (ws.training) ws.session?.current?.trainer.pause();
    },
    async resume() {
      ws.session?.current?.trainer.resume();
    },
    async stop() {
      ws.session?.current?.trainer.stop();
    },

    async generate(req, tuned) {
      const s = ws.need();
      const { prompt, ...opts } = req;
      const adapter = ws.adapter?.lora;
      const sample = () =>
        tuned && adapter
          ? s.withBaseModel((view) => generate({ ...view, lora: adapter }, s.tokenizer, prompt, opts))
          : s.generate(prompt, opts, tuned);
      // mid-run, between two steps of the trainer, so the weights hold still while the sample reads them
      return s.current ? s.current.trainer.between(sample) : sample();
    },
  } satisfies Partial<TrainerApi>;
}
