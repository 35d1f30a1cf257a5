// The CLI's lesson hook (scripts/train.ts): `--lesson <id> [--variant pitfall|<fixId>]` trains the variant's
// config (its first trial, when it has several) and the end event carries the diagnosis, measured on that run
// and on any further trials the variant needs (k-fold folds, search trials), trained on the CLI's own config.

import { mergeConfig, type DeepPartial, type RunConfig } from '../config';
import type { Session } from '../session';
import type { RunHistory } from '../train/types';
import { lessonById } from './index';
import { combine, finishTrial, runTrial, variantOf } from './runner';

export async function lessonCli(id: string, variantId: string): Promise<{ override: DeepPartial<RunConfig>; diagnose(h: RunHistory, s: Session): Promise<string> }> {
  const lesson = lessonById(id);
  const variant = variantOf(lesson, variantId);
  const runs = variant.trials?.runs ?? [{ label: variant.label, override: {} }];
  return {
    override: mergeConfig<DeepPartial<RunConfig>>(lesson.base, variant.override, runs[0].override),
    async diagnose(history, session) {
      const trials = [await finishTrial(session, lesson, runs[0].label, history)];
      // a trial's override sets the same fields as the first one's, so it goes straight onto the CLI's config
      for (const r of runs.slice(1)) trials.push(await runTrial(session, lesson, r.label, mergeConfig(history.config, r.override)));
      return combine(lesson, variant, history.config, trials).diagnosis.text;
    },
  };
}
