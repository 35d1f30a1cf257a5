// Headless training on the same engine the page uses.
//   npm run train -- [--config FILE] [--lesson ID [--variant pitfall|fix]] [--set a.b=value ...] [--backend cpu|wasm]
//                    [--data FILE.jsonl|csv|txt] [--model DIR] [--out DIR] [--json]
// --data trains on your file: the page's validation report is printed first, bad lines are named and skipped.
// --model trains on a Hugging Face GPT-2 folder (config.json + model.safetensors [+ tokenizer]).
// --out writes the PEFT adapter (or, for full fine-tuning, the model), the run (run.json, importable on the
// page's Runs panel), the curves (curves.csv) and, for a lesson, its diagnosis (diagnosis.txt).
// With --lesson the variant runs through the core lesson runner, as in the page (every trial, then the diagnosis).
// A progress bar with ETA on a terminal, plain lines otherwise; with --json one JSON object per line:
// data (with --data), step, eval, saved (with --out), and a final end event.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { diskLoader } from '../src/core/assets';
import {
  ConfigError,
  defaultConfig,
  mergeConfig,
  configProblems,
  validate,
  type DeepPartial,
  type RunConfig,
} from '../src/core/config';
import { parseDataset } from '../src/core/data/parse';
import { validationReport } from '../src/core/data/report';
import { reportText } from '../src/core/data/report-text';
import type { DataRecord } from '../src/core/data/types';
import type { HfFiles } from '../src/core/import/hf-gpt2';
import { importHfModel } from '../src/core/import/hf';
import { exportMergedHfGpt2, exportPeftAdapter } from '../src/core/import/peft';
import type { LoadedModel } from '../src/core/model/checkpoint';
import { setPath } from '../src/core/overrides';
import { lessonById } from '../src/core/lessons/index';
import { runLesson } from '../src/core/lessons/runner';
import { variantOf } from '../src/core/rules';
import { Session, type Run } from '../src/core/session';
import { CharTokenizer } from '../src/core/tokenizer/char';
import { stepsFor } from '../src/core/train/trainer';
import type { EndEvent, RunHistory, StepEvent, TrainCallbacks } from '../src/core/train/types';
import { runCsv, type StoredRun } from '../src/ui/runs';

const argv = process.argv.slice(2);
const flag = (n: string) => argv.includes(`--${n}`);
const values = (n: string) => argv.flatMap((a, i) => (a === `--${n}` && i + 1 < argv.length ? [argv[i + 1]] : []));
const json = flag('json');
const emit = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
// a reader that stops early (`| head`) is not an error
process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? 0 : 1));

function fail(message: string): never {
  if (json) emit({ type: 'error', message });
  else console.error(`error: ${message}`);
  process.exit(2);
}

// Every option, and whether it takes a value: a mistyped one is an error, not silently a different run.
const OPTIONS: Record<string, boolean> = {
  config: true,
  lesson: true,
  variant: true,
  set: true,
  backend: true,
  data: true,
  model: true,
  out: true,
  json: false,
  help: false,
};
const USAGE =
  'usage: npm run train -- [--config FILE] [--lesson ID [--variant pitfall|FIX]] [--set a.b=value ...] [--backend cpu|wasm] [--data FILE.jsonl|csv|txt] [--model DIR] [--out DIR] [--json]';
if (flag('help')) {
  console.log(USAGE);
  process.exit(0);
}
for (let i = 0; i < argv.length; i++) {
  const name = argv[i].startsWith('--') ? argv[i].slice(2) : null;
  if (name === null || !(name in OPTIONS))
    fail(
      `${JSON.stringify(argv[i])} is not an option of npm run train; accepted: ${Object.keys(OPTIONS)
        .map((o) => `--${o}`)
        .join(', ')}\n${USAGE}`,
    );
  if (OPTIONS[name]) {
    if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) fail(`--${name} needs a value\n${USAGE}`);
    i++;
  }
}

/** --data FILE: its usable records, after printing the page's report on them (bad lines by number). */
function readData(file: string, session: Session, c: RunConfig, blockSize: number): DataRecord[] {
  let source: string;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch (e) {
    fail(`--data ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const parsed = parseDataset(source, { fileName: file });
  const report = validationReport(parsed.records, session.tokenizer, {
    blockSize,
    separator: c.data.separator,
    appendEos: c.data.appendEos,
  });
  if (json)
    emit({ type: 'data', file, format: parsed.format, records: parsed.records.length, errors: parsed.errors, report });
  else process.stdout.write(reportText(path.basename(file), parsed, report) + '\n');
  if (parsed.records.length === 0)
    fail(`--data ${file}: no usable records${parsed.errors[0] ? ` (${parsed.errors[0].message})` : ''}`);
  return parsed.records;
}

/**
 * --model DIR: a Hugging Face folder, GPT-2 (its tokenizer GPT-2's BPE, checked against tokenizer.json or vocab.json
 * when present, or this engine's character tokenizer when tokenizer.json is one, "kind": "char") or the Llama layout
 * (llama, qwen2, mistral: tokenizer.json as transformers saves it; weights in one file or shards).
 */
async function readModelDir(dir: string): Promise<LoadedModel> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    fail(`--model ${dir}: not a folder (expected config.json + model.safetensors)`);
  const files: HfFiles = {};
  const known = [
    'config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'vocab.json',
    'model.safetensors.index.json',
    'pytorch_model.bin',
  ];
  for (const f of fs.readdirSync(dir)) {
    if (!known.includes(f) && !f.endsWith('.safetensors')) continue;
    files[f] = new Uint8Array(fs.readFileSync(path.join(dir, f)));
  }
  let tokenizer: CharTokenizer | undefined;
  if (files['tokenizer.json']) {
    let t: { kind?: string; chars: string[] } | null = null;
    try {
      t = JSON.parse(new TextDecoder().decode(files['tokenizer.json'] as Uint8Array));
    } catch {
      // not JSON: the importer says so, naming the file
    }
    if (t?.kind === 'char') {
      tokenizer = CharTokenizer.fromJSON(t);
      delete files['tokenizer.json'];
    }
  }
  try {
    return await importHfModel(files, { name: path.basename(path.resolve(dir)), tokenizer });
  } catch (e) {
    const m = (e as Error).message;
    if (!m.includes("smaller than GPT-2's")) throw e;
    fail(
      `--model ${dir}: ${m}. For a small vocabulary, put this engine's character tokenizer in the folder as tokenizer.json ({"kind": "char", "chars": [...]}, ids 2.. after <eos> and <unk>)`,
    );
  }
}

/** The step line: a bar with ETA on a terminal (redrawn in place), a plain line every ~5% otherwise. */
function progress(totalSteps: number) {
  const tty = process.stdout.isTTY === true;
  const started = performance.now();
  const every = Math.max(1, Math.round(totalSteps / 20));
  return (e: StepEvent) => {
    const elapsed = performance.now() - started;
    const eta = (elapsed / e.step) * (totalSteps - e.step);
    const stats = `loss ${e.loss.toFixed(4)}  lr ${e.lr.toExponential(2)}  ${Math.round(e.tokensPerSec)} tok/s  ETA ${clock(eta)}`;
    if (tty) {
      const width = 24;
      const done = Math.round((e.step / totalSteps) * width);
      process.stdout.write(`\r[${'#'.repeat(done)}${'-'.repeat(width - done)}] ${e.step}/${totalSteps}  ${stats}   `);
    } else if (e.step % every === 0 || e.step === totalSteps || e.step === 1) {
      process.stdout.write(`step ${e.step}/${totalSteps}  ${stats}\n`);
    }
  };
}
const clock = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};

/** The run as the page stores it, so run.json imports on the page's Runs panel. */
function storedRun(h: RunHistory, dataLabel: string, totalSteps: number): StoredRun {
  return {
    id: `cli-${Date.now().toString(36)}`,
    createdAt: Date.now(),
    config: h.config,
    dataLabel,
    backend: h.backend,
    steps: h.steps,
    evals: h.evals,
    samples: [],
    end: h.end,
    failure: null,
    totalSteps,
    trainableParams: h.trainableParams,
    totalParams: h.totalParams,
    warmupEndStep: h.warmupEndStep,
    lesson: null,
  };
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
  const outDir = values('out')[0];
  const dataFile = values('data')[0];
  const modelDir = values('model')[0];
  if (lesson && (dataFile || modelDir))
    fail("--lesson runs on the lesson's own model and data: leave out --data and --model");
  // with --model the targets a model has (a Llama's gate) are known once it is read: checked again then
  const early = configProblems(config).filter((p) => !(modelDir && p.field === 'lora.targets'));
  if (early.length > 0) throw early[0];

  const session = await Session.create({ loader: await diskLoader(), backend: config.model.backend });
  if (modelDir) {
    const loaded = await session.useModel(await readModelDir(modelDir));
    config = { ...config, model: { ...config.model, name: loaded.config.name, arch: loaded.model.arch } };
    validate(config);
  } else {
    await session.loadModel(config);
  }
  const custom = dataFile ? readData(dataFile, session, config, session.model.arch.blockSize) : undefined;
  if (custom) config = { ...config, data: { ...config.data, dataset: 'custom' } };

  let onStep: (e: StepEvent) => void = emit;
  let totalSteps = 0;
  const callbacks: TrainCallbacks = {
    onStep: (e) => onStep(e),
    onEval: (e) => {
      if (json) return emit(e);
      const parts = [`val ${e.valLoss.toFixed(4)}`];
      if (e.generalLoss !== undefined) parts.push(`general ${e.generalLoss.toFixed(4)}`);
      if (e.valAccuracy !== undefined) parts.push(`accuracy ${(e.valAccuracy * 100).toFixed(1)}%`);
      process.stdout.write(`${process.stdout.isTTY ? '\n' : ''}  eval @${e.step}: ${parts.join('  ')}\n`);
    },
  };
  const announce = (run: Run, trial?: string) => {
    totalSteps = stepsFor(run.config, run.data.train.length).totalSteps;
    onStep = json ? emit : progress(totalSteps);
    if (json) return trial ? emit({ type: 'trial', label: trial }) : undefined;
    console.log(
      `${trial ? `${trial}: ` : ''}backend ${session.backend.backend}; model ${run.config.model.name} (${session.model.numParams.toLocaleString('en-US')} params); ` +
        `${run.data.train.length} train / ${run.data.val.length} val examples; ${totalSteps} steps`,
    );
  };
  let history: RunHistory;
  let diagnosis: string | undefined;
  if (lesson) {
    // the same core function the page and the tests run: every trial of the variant, then its diagnosis
    const result = await runLesson(session, lesson, variantId, {
      override: config,
      onTrialStart: (run, label, _i, of) => {
        announce(run, of > 1 ? label : undefined);
        return callbacks;
      },
    });
    history = result.trials.at(-1)!.history;
    diagnosis = result.diagnosis.text;
  } else {
    announce(await session.prepare(config, custom));
    history = await session.train(callbacks);
  }
  const run = session.current!; // the last run trained: its adapter or weights are what --out saves
  const files: Record<string, string | Uint8Array> = {};
  if (outDir) {
    if (run.lora) {
      for (const [f, data] of Object.entries(
        await exportPeftAdapter(run.lora, { baseModel: modelDir ? path.resolve(modelDir) : run.config.model.name }),
      ))
        files[`adapter/${f}`] = data;
    } else {
      for (const [f, data] of Object.entries(
        await exportMergedHfGpt2(session.model, null, { eosId: session.tokenizer.eosId }),
      ))
        files[`model/${f}`] = data;
    }
    const stored = storedRun(history, dataFile ? path.basename(dataFile) : run.config.data.dataset, totalSteps);
    files['run.json'] = JSON.stringify({ format: 'lora-playground-runs', version: 1, runs: [stored] }, null, 1) + '\n';
    files['curves.csv'] = runCsv(stored);
    if (diagnosis) files['diagnosis.txt'] = `${lessonId} (${variantId}): ${diagnosis}\n`;
    for (const [f, data] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(outDir, f)), { recursive: true });
      fs.writeFileSync(path.join(outDir, f), data);
    }
    if (json) emit({ type: 'saved', dir: outDir, files: Object.keys(files) });
  }
  const end: EndEvent & { diagnosis?: string } = { ...history.end, ...(diagnosis ? { diagnosis } : {}) };
  if (json) emit(end);
  else {
    console.log(`${process.stdout.isTTY ? '\n' : ''}${end.message}`);
    if (end.bestStep >= 0) console.log(`best step ${end.bestStep}, best validation loss ${end.bestValLoss.toFixed(4)}`);
    if (end.diagnosis) console.log(`diagnosis: ${end.diagnosis}`);
    if (outDir) console.log(`wrote ${outDir}/: ${Object.keys(files).join(', ')}`);
  }
  session.dispose();
}

main().catch((e) => fail(e instanceof ConfigError ? e.message : (e as Error).message));
