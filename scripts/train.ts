// Headless training on the same engine the page uses.
//   npm run train -- [--config FILE] [--lesson ID [--variant pitfall|fix]] [--set a.b=value ...] [--backend cpu|wasm] [--json]
// Human-readable progress by default; with --json one JSON object per line: step, eval, and a final end event.

import * as fs from 'node:fs';
import { diskLoader } from '../src/core/assets';
import { ConfigError, defaultConfig, mergeConfig, validate, type DeepPartial, type RunConfig } from '../src/core/config';
import { setPath } from '../src/core/overrides';
import { Session } from '../src/core/session';
import { stepsFor } from '../src/core/train/trainer';
import type { EndEvent } from '../src/core/train/types';

const argv = process.argv.slice(2);
const flag = (n: string) => argv.includes(`--${n}`);
const values = (n: string) => argv.flatMap((a, i) => (a === `--${n}` && i + 1 < argv.length ? [argv[i + 1]] : []));
const json = flag('json');
const emit = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');

function fail(message: string): never {
  if (json) emit({ type: 'error', message });
  else console.error(`error: ${message}`);
  process.exit(2);
}

async function main() {
  let config: RunConfig = defaultConfig();
  const configFile = values('config')[0];
  if (configFile) {
    let over: DeepPartial<RunConfig>;
    try {
      over = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    } catch (e) {
      fail(`--config ${configFile}: ${(e as Error).message}`);
    }
    config = mergeConfig(config, over);
  }
  const lessonId = values('lesson')[0];
  let lesson: LessonHook | null = null;
  if (lessonId) {
    lesson = await lessonHook(lessonId, values('variant')[0] ?? 'pitfall');
    config = mergeConfig(config, lesson.override);
  }
  for (const s of values('set')) config = setPath(config, s);
  const backend = values('backend')[0];
  if (backend) config = setPath(config, `model.backend=${backend}`);
  if (config.model.backend === 'auto') config.model.backend = 'wasm';
  validate(config);

  const session = await Session.create({ loader: await diskLoader(), backend: config.model.backend });
  const run = await session.prepare(config);
  const { totalSteps } = stepsFor(run.config, run.data.train.length);
  const started = performance.now();
  if (!json) {
    console.log(`backend ${session.backend.backend}; model ${config.model.name} (${session.model.numParams.toLocaleString('en-US')} params); ` +
      `${run.data.train.length} train / ${run.data.val.length} val examples; ${totalSteps} steps`);
  }
  const history = await session.train({
    onStep: (e) => {
      if (json) return emit(e);
      const eta = ((performance.now() - started) / e.step) * (totalSteps - e.step);
      process.stdout.write(`\rstep ${e.step}/${totalSteps}  loss ${e.loss.toFixed(4)}  lr ${e.lr.toExponential(2)}  ${Math.round(e.tokensPerSec)} tok/s  ETA ${(eta / 1000).toFixed(0)}s   `);
    },
    onEval: (e) => {
      if (json) return emit(e);
      const parts = [`val ${e.valLoss.toFixed(4)}`];
      if (e.generalLoss !== undefined) parts.push(`general ${e.generalLoss.toFixed(4)}`);
      if (e.valAccuracy !== undefined) parts.push(`accuracy ${(e.valAccuracy * 100).toFixed(1)}%`);
      process.stdout.write(`\n  eval @${e.step}: ${parts.join('  ')}\n`);
    },
  });
  const end: EndEvent & { diagnosis?: string } = { ...history.end };
  if (lesson) end.diagnosis = await lesson.diagnose(history, session);
  if (json) emit(end);
  else {
    console.log(`\n${end.message}`);
    if (end.bestStep >= 0) console.log(`best step ${end.bestStep}, best validation loss ${end.bestValLoss.toFixed(4)}`);
    if (end.diagnosis) console.log(`diagnosis: ${end.diagnosis}`);
  }
  session.dispose();
}

interface LessonHook {
  override: DeepPartial<RunConfig>;
  diagnose(h: import('../src/core/train/types').RunHistory, s: Session): Promise<string>;
}

/** Lessons plug in here (src/core/lessons): a config override and a diagnosis of the finished run. */
async function lessonHook(id: string, variant: string): Promise<LessonHook> {
  const { lessonCli } = await import('../src/core/lessons/cli');
  return lessonCli(id, variant);
}

main().catch((e) => fail(e instanceof ConfigError ? e.message : (e as Error).message));
