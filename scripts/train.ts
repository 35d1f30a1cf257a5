// Headless training on the same engine the page uses.
//   npm run train -- [--config FILE] [--lesson ID [--variant pitfall|fix]] [--set a.b=value ...] [--backend cpu|wasm] [--json]
// Human-readable progress by default; with --json one JSON object per line: step, eval, and a final end event.
// With --lesson the variant runs through the core lesson runner (every trial, then the diagnosis in the end event).

import * as fs from 'node:fs';
import { diskLoader } from '../src/core/assets';
import { ConfigError, defaultConfig, mergeConfig, validate, type DeepPartial, type RunConfig } from '../src/core/config';
import { setPath } from '../src/core/overrides';
import { lessonById } from '../src/core/lessons/index';
import { runLesson } from '../src/core/lessons/runner';
import { variantOf } from '../src/core/rules';
import { Session, type Run } from '../src/core/session';
import { stepsFor } from '../src/core/train/trainer';
import type { EndEvent, TrainCallbacks } from '../src/core/train/types';

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
  const lesson = lessonId ? lessonById(lessonId) : null;
  const variantId = values('variant')[0] ?? 'pitfall';
  if (lesson) config = mergeConfig(config, lesson.base, variantOf(lesson, variantId).override);
  for (const s of values('set')) config = setPath(config, s);
  const backend = values('backend')[0];
  if (backend) config = setPath(config, `model.backend=${backend}`);
  if (config.model.backend === 'auto') config.model.backend = 'wasm';
  validate(config);

  const session = await Session.create({ loader: await diskLoader(), backend: config.model.backend });
  let started = performance.now();
  let totalSteps = 0;
  const callbacks: TrainCallbacks = {
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
  };
  const announce = (run: Run, trial?: string) => {
    totalSteps = stepsFor(run.config, run.data.train.length).totalSteps;
    started = performance.now();
    if (json) return trial ? emit({ type: 'trial', label: trial }) : undefined;
    console.log(`${trial ? `${trial}: ` : ''}backend ${session.backend.backend}; model ${run.config.model.name} (${session.model.numParams.toLocaleString('en-US')} params); ` +
      `${run.data.train.length} train / ${run.data.val.length} val examples; ${totalSteps} steps`);
  };
  let end: EndEvent & { diagnosis?: string };
  if (lesson) {
    // the same core function the page and the tests run: every trial of the variant, then its diagnosis
    const result = await runLesson(session, lesson, variantId, {
      override: config,
      onTrialStart: (run, label, _i, of) => {
        announce(run, of > 1 ? label : undefined);
        return callbacks;
      },
    });
    end = { ...result.trials.at(-1)!.history.end, diagnosis: result.diagnosis.text };
  } else {
    announce(await session.prepare(config));
    end = { ...(await session.train(callbacks)).end };
  }
  if (json) emit(end);
  else {
    console.log(`\n${end.message}`);
    if (end.bestStep >= 0) console.log(`best step ${end.bestStep}, best validation loss ${end.bestValLoss.toFixed(4)}`);
    if (end.diagnosis) console.log(`diagnosis: ${end.diagnosis}`);
  }
  session.dispose();
}

main().catch((e) => fail(e instanceof ConfigError ? e.message : (e as Error).message));
