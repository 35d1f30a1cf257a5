// The training worker: builds the TrainerApi from src/core's Session and exposes it with comlink. All tfjs work
// happens here, so the page's main thread only draws. Progress goes out at most ~4 times a second.

import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { AssetError, fetchLoader } from '../src/core/assets';
import type { Backend, DeepPartial, ModelArch, RunConfig } from '../src/core/config';
import { isPromptCompletion, promptText } from '../src/core/data/format';
import { parseDataset } from '../src/core/data/parse';
import { validationReport } from '../src/core/data/report';
import type { DataRecord } from '../src/core/data/types';
import { LESSONS, lessonById } from '../src/core/lessons/index';
import { LessonStopped, runLesson } from '../src/core/lessons/runner';
import { lessonConfig } from '../src/core/rules';
import { estimateSize, fetchHfGpt2, hfFileUrl, importHfGpt2, remoteSize, type HfFiles } from '../src/core/import/hf-gpt2';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, exportMergedHfGpt2, exportPeftAdapter, importPeftAdapter } from '../src/core/import/peft';
import { exportPythonProject } from '../src/core/import/python-export';
import { generate } from '../src/core/eval/generate';
import type { LoadedModel } from '../src/core/model/checkpoint';
import type { LoraSet } from '../src/core/model/lora';
import { Session, type Run } from '../src/core/session';
import { tabMemory } from '../src/ui/device';
import { wasmPaths } from '../src/wasm-paths';
import { trainableParams } from '../src/core/train/freeze';
import { stepsFor } from '../src/core/train/trainer';
import type { EvalEvent, RunHistory, StepEvent, TrainCallbacks } from '../src/core/train/types';
import { packSteps, type Capabilities, type DatasetInfo, type ExportedFiles, type FatalListener, type ImportProgress, type LessonInfo, type LessonListener, type ModelInfo, type NamedFile, type Progress, type ProgressListener, type Sample, type TrainerApi } from '../src/protocol';

const loader = fetchLoader(import.meta.env.BASE_URL);
// The threaded wasm build starts its pthreads from a Blob holding its factory's source text, which a bundler's
// minifier breaks ("e is not defined"); one thread is also the right share of this 2-core class of machine.
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
const PROGRESS_MS = 250; // at most four updates a second reach the page
const BUILT_IN_MODELS = ['tiny-world', 'random'];
const SAMPLE_TOKENS = 32;

let session: Session | null = null;
let training = false;
/** The model the session holds now: a new one drops an imported adapter made for the old one. */
let current: LoadedModel | null = null;
/** Imported models' files by name: the session keeps one model, so one dropped for another is imported again from these. */
const importedModels = new Map<string, HfFiles>();
/** A PEFT adapter loaded with importAdapter: samples use it (on the pretrained weights) until a run starts or the model changes. */
let loadedAdapter: LoraSet | null = null;

/**
 * Why the trainer is held between steps: the user's pause, a sample being read, or a yield to the event loop.
 * Each reason is released on its own; the trainer resumes when none is left. (Trainer.pause takes effect at the
 * top of its next step.)
 */
type HoldReason = 'user' | 'sample' | 'generate';
const holds = new Set<HoldReason>();
function hold(reason: HoldReason) {
  holds.add(reason);
  session?.current?.trainer.pause();
}
function release(reason: HoldReason) {
  holds.delete(reason);
  if (holds.size === 0) session?.current?.trainer.resume();
}

function need(): Session {
  if (!session) throw new Error('The trainer has not started yet: call init() first.');
  return session;
}

function dropAdapter() {
  loadedAdapter?.dispose();
  loadedAdapter = null;
}

/** Loads the model a config names: built-in, random, or one imported earlier in this worker. */
async function ensureModel(s: Session, config: RunConfig): Promise<LoadedModel> {
  const files = importedModels.get(config.model.name);
  const loaded = files && current?.config.name !== config.model.name ? await s.useModel(await importHfGpt2(files, { name: config.model.name })) : await s.loadModel(config);
  if (loaded !== current) dropAdapter();
  current = loaded;
  return loaded;
}

const infoOf = (m: LoadedModel): ModelInfo => ({ name: m.config.name, arch: m.model.arch, numParams: m.model.numParams, tokenizer: m.tokenizer.kind, description: m.config.description });

/** Files for the page, their bytes transferred. */
function filesOut(files: Record<string, string | Uint8Array>): ExportedFiles {
  const out: NamedFile[] = Object.entries(files).map(([name, v]) => ({ name, bytes: typeof v === 'string' ? new TextEncoder().encode(v) : v }));
  return Comlink.transfer({ files: out }, [...new Set(out.map((f) => f.bytes.buffer as ArrayBuffer))]);
}

const filesIn = (files: NamedFile[]): HfFiles => Object.fromEntries(files.map((f) => [f.name, f.bytes]));

function notWhileTraining(what: string) {
  if (training) throw new Error(`A run is training: stop it or let it finish before ${what}.`);
}

/** The run whose files are exported: the current one, finished. */
function finishedRun(s: Session, what: string) {
  notWhileTraining(`exporting ${what}`);
  const run = s.current;
  if (!run) throw new Error(`No run has been trained in this tab yet: train one, then export ${what}.`);
  return run;
}

/** The loaded model's shape, or null before a model is loaded. */
function loadedArch(s: Session): ModelArch | null {
  try {
    return s.model.arch;
  } catch {
    return null;
  }
}

interface GpuAdapterLike {
  info?: Record<string, string>;
  requestAdapterInfo?(): Promise<Record<string, string>>;
}

/** Looks at WebGPU and WebGL without switching tfjs to them, so the picker can say why one is unavailable. */
async function capabilities(): Promise<Capabilities> {
  const caps: Capabilities = { webgpu: null, webgl: null };
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }).gpu;
  if (!gpu) caps.webgpu = 'this browser offers no WebGPU (navigator.gpu is missing; it needs a recent Chromium-based browser and a secure page)';
  else {
    try {
      const adapter = await gpu.requestAdapter();
      if (!adapter) caps.webgpu = 'WebGPU is present but found no graphics adapter (blocked GPU, or no driver)';
      else {
        const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
        caps.adapter = { vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '', description: info.description ?? '' };
      }
    } catch (e) {
      caps.webgpu = `asking for a WebGPU adapter failed: ${(e as Error).message}`;
    }
  }
  try {
    const gl = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1).getContext('webgl2') : null;
    if (!gl) caps.webgl = 'no WebGL2 context could be created in a worker (OffscreenCanvas missing or GPU blocked)';
  } catch (e) {
    caps.webgl = `creating a WebGL2 context failed: ${(e as Error).message}`;
  }
  return caps;
}

/** Collects step and eval events and sends them together, at most every PROGRESS_MS; series are transferred. */
class ProgressBatcher {
  private steps: StepEvent[] = [];
  private evals: EvalEvent[] = [];
  private samples: Sample[] = [];
  private last = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly listener: ProgressListener,
    private readonly meta: Pick<Progress, 'totalSteps' | 'trainableParams' | 'totalParams'>,
  ) {}

  step(e: StepEvent) {
    this.steps.push(e);
    this.schedule();
  }
  eval(e: EvalEvent) {
    this.evals.push(e);
    this.schedule();
  }
  sample(s: Sample) {
    this.samples.push(s);
    this.schedule();
  }

  private schedule() {
    if (this.timer) return;
    const wait = Math.max(0, this.last + PROGRESS_MS - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  flush() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.steps.length + this.evals.length + this.samples.length === 0) return;
    const packed = packSteps(this.steps);
    const p: Progress = { steps: packed, evals: this.evals, samples: this.samples, ...this.meta };
    this.steps = [];
    this.evals = [];
    this.samples = [];
    this.last = performance.now();
    // fire and forget: the page's answer carries nothing, and waiting would slow training
    void Promise.resolve(this.listener(Comlink.transfer(p, [packed.buffer]))).catch(() => undefined);
  }
}

/** Runs fn as the one training job of this worker (start and runLesson alike). */
async function asTheTrainingJob<T>(fn: (s: Session) => Promise<T>): Promise<T> {
  if (training) throw new Error('A run is already training: stop it first.');
  const s = need();
  training = true;
  holds.clear();
  dropAdapter();
  try {
    return await fn(s);
  } finally {
    training = false;
  }
}

/** Callbacks that stream a prepared run's steps, evaluations and samples to the page; done() flushes the rest. */
function streamRun(s: Session, run: Run, onProgress: ProgressListener): { callbacks: TrainCallbacks; done(): Promise<void> } {
  const { totalSteps } = stepsFor(run.config, run.data.train.length);
  const trainable = trainableParams(run.view.params as Record<string, tf.Variable>, run.lora, run.view.arch, run.config.train, 0);
  const batcher = new ProgressBatcher(onProgress, {
    totalSteps,
    trainableParams: trainable.reduce((n, p) => n + p.variable.size, 0),
    totalParams: s.model.numParams,
  });
  const prompt = samplePrompt(run.data.records.val, run.config.data.separator);
  let sampling: Promise<void> = Promise.resolve();
  const callbacks: TrainCallbacks = {
    onStep: (e) => {
      batcher.step(e);
    },
    onEval: (e) => {
      batcher.eval(e);
      if (e.sample !== undefined) {
        // the trainer's sample is the first validation question followed by the model's answer
        const asked = prompt !== null && e.sample.startsWith(prompt);
        return batcher.sample({ step: e.step, prompt: asked ? prompt : '', text: asked ? e.sample.slice(prompt.length) : e.sample });
      }
      if (prompt === null) return;
      // hold the trainer at the next step so the sample reads the weights of this evaluation
      hold('sample');
      sampling = s
        .generate(prompt, { maxTokens: SAMPLE_TOKENS, temperature: 0, topK: 0, stop: ['\n'], seed: 0 }, true)
        .then((g) => batcher.sample({ step: e.step, prompt, text: g.text }))
        .catch(() => undefined)
        .finally(() => release('sample'));
    },
  };
  return {
    callbacks,
    async done() {
      await sampling;
      batcher.flush();
    },
  };
}

/** The prompt whose completion is sampled at each evaluation: the first validation record's. */
function samplePrompt(records: DataRecord[], separator: string): string | null {
  const r = records[0];
  if (!r) return null;
  if (isPromptCompletion(r)) return promptText(r, separator);
  return (r.text ?? '').slice(0, 40) || null;
}

const api = {
  async init(pref: Backend | 'auto', onFatal?: FatalListener) {
    session?.dispose();
    session = null;
    current = null;
    loadedAdapter = null; // its variables went with the session's
    importedModels.clear();
    const caps = await capabilities();
    session = await Session.create({ loader, backend: pref, backendOptions: { wasmPaths }, memory: tabMemory() });
    const report = session.backend;
    if (report.backend === 'webgpu' && onFatal) {
      const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ message: string; reason?: string }> } }).device;
      void device?.lost?.then((info) => onFatal(`The GPU device was lost (${info.reason ?? 'unknown reason'}${info.message ? `: ${info.message}` : ''}).`));
    }
    return { report, capabilities: caps };
  },

  async listDatasets() {
    const all = JSON.parse(await loader.text('datasets/index.json')) as DatasetInfo[];
    // only task datasets under datasets/ can be trained on by name
    return all.filter((d) => d.file === `datasets/${d.name}.jsonl`);
  },

  async loadModel(config: RunConfig) {
    return infoOf(await ensureModel(need(), config));
  },

  async validateData(text: string, fileName: string, config: RunConfig) {
    const s = need();
    const { records, errors, format } = parseDataset(text, { fileName });
    // the loaded model's context (the tokenizer too is the loaded model's); the config's before one loads
    const blockSize = s.current?.config.model.arch.blockSize ?? loadedArch(s)?.blockSize ?? config.model.arch.blockSize;
    const report = validationReport(records, s.tokenizer, { blockSize, separator: config.data.separator, appendEos: config.data.appendEos });
    return { records, errors, format, report };
  },

  async start(config: RunConfig, custom: DataRecord[] | null, onProgress: ProgressListener) {
    return asTheTrainingJob(async (s) => {
      await ensureModel(s, config);
      const run = await s.prepare(config, custom ?? undefined);
      const stream = streamRun(s, run, onProgress);
      const history = await s.train(stream.callbacks);
      await stream.done();
      return history;
    });
  },

  async runLesson(lessonId: string, variantId: string, override: DeepPartial<RunConfig>, listener: LessonListener) {
    const lesson = lessonById(lessonId);
    return asTheTrainingJob(async (s) => {
      await ensureModel(s, lessonConfig(lesson, variantId, override));
      // the same core function the CLI and the tests run; each trial streams to the page as a run of its own
      let stream: ReturnType<typeof streamRun> | null = null;
      let trial = { label: '', index: 0 };
      // the trial's last progress, then its end, reach the page before the next trial starts or the outcome
      const end = async (history: RunHistory, seconds: number) => {
        await stream?.done();
        stream = null;
        await listener.trialEnd({ ...trial, history, seconds });
      };
      try {
        const result = await runLesson(s, lesson, variantId, {
          override,
          onTrialStart: (run, label, index, of) => {
            trial = { label, index };
            void Promise.resolve(listener.trialStart({ label, index, of, config: run.config })).catch(() => undefined);
            stream = streamRun(s, run, (p) => listener.progress(p));
            return stream.callbacks;
          },
          onTrial: (t) => end(t.history, t.seconds),
        });
        const { diagnosis, measures, variant } = result;
        return { lesson: lessonId, variant, diagnosis, measures, trials: result.trials.map((t) => ({ label: t.label, seconds: t.seconds })) };
      } catch (e) {
        if (e instanceof LessonStopped) await end(e.history, NaN);
        throw e;
      }
    });
  },

  async pause() {
    if (training) hold('user');
  },
  async resume() {
    release('user');
  },
  async stop() {
    holds.clear();
    session?.current?.trainer.stop();
  },

  async generate(req, tuned) {
    const s = need();
    // mid-run, hold the trainer at its next step so the weights stay still while the sample reads them
    if (training) hold('generate');
    try {
      const { prompt, ...opts } = req;
      const adapter = loadedAdapter;
      if (tuned && adapter) return await s.withBaseModel((view) => generate({ ...view, lora: adapter }, s.tokenizer, prompt, opts));
      return await s.generate(prompt, opts, tuned);
    } finally {
      if (training) release('generate');
    }
  },

  async lossTable() {
    return need().lossTable();
  },

  async listLessons() {
    return LESSONS.map(({ measure: _m, diagnose: _d, ...info }): LessonInfo => info);
  },

  async probeHfModel(hfId) {
    const url = hfFileUrl(hfId, 'config.json');
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new AssetError(hfId, `could not be reached on huggingface.co (${(e as Error).message})`);
    }
    if (res.status === 404) throw new AssetError(hfId, 'was not found on huggingface.co (no config.json); check the model id');
    if (!res.ok) throw new AssetError(hfId, `config.json could not be fetched (HTTP ${res.status}${res.status === 401 ? ': gated or private models need a login this page does not have' : ''})`);
    const { arch, params, bytesF32 } = estimateSize(await res.text());
    return { id: hfId, arch, params, bytesF32, fileBytes: await remoteSize(hfFileUrl(hfId, 'model.safetensors')).catch(() => null) };
  },

  async importModel(source, onProgress) {
    const s = need();
    notWhileTraining('importing a model');
    // one message per network chunk would flood the page: at most one every PROGRESS_MS (and the last)
    let last = 0;
    const progress = (p: ImportProgress, force = false) => {
      if (!onProgress || (!force && performance.now() - last < PROGRESS_MS && p.loaded !== p.total)) return;
      last = performance.now();
      void Promise.resolve(onProgress(p)).catch(() => undefined);
    };
    let files: HfFiles;
    let name: string;
    if ('hfId' in source) {
      files = await fetchHfGpt2(source.hfId, { maxBytes: source.maxBytes, onProgress: (p) => progress({ phase: 'download', ...p }) });
      name = source.hfId;
    } else {
      files = filesIn(source.files);
      const config = files['config.json'];
      let saved: unknown;
      try {
        saved = config === undefined ? undefined : (JSON.parse(typeof config === 'string' ? config : new TextDecoder().decode(config)) as Record<string, unknown>)._name_or_path;
      } catch {
        saved = undefined; // importHfGpt2 names the JSON error
      }
      name = source.name || (typeof saved === 'string' && saved ? saved : 'local-gpt2');
    }
    if (BUILT_IN_MODELS.includes(name)) name = `${name} (imported)`;
    progress({ phase: 'convert', file: 'model.safetensors', loaded: 0, total: null }, true);
    const loaded = await importHfGpt2(files, { name });
    importedModels.set(name, files);
    current = await s.useModel(loaded);
    dropAdapter();
    return infoOf(loaded);
  },

  async exportAdapter() {
    const s = need();
    const run = finishedRun(s, 'an adapter');
    if (!run.lora) throw new Error('The current run fine-tuned every weight (train.method "full"): it has no LoRA adapter to export; export the merged model instead.');
    return filesOut(await exportPeftAdapter(run.lora, { baseModel: run.config.model.name }));
  },

  async exportMerged() {
    const s = need();
    notWhileTraining('exporting the merged model');
    const eosId = s.tokenizer.eosId;
    const adapter = loadedAdapter;
    // an imported adapter goes onto the pretrained weights, as it is sampled; else the run's adapter or full fine-tune
    const files = adapter ? await s.withBaseModel(() => exportMergedHfGpt2(s.model, adapter, { eosId })) : await exportMergedHfGpt2(s.model, s.current?.lora ?? null, { eosId });
    return filesOut(files);
  },

  async exportPython() {
    const run = finishedRun(need(), 'the Python project');
    return filesOut(exportPythonProject(run.config, run.data.records, { baseModel: run.config.model.name }));
  },

  async importAdapter(files) {
    const s = need();
    notWhileTraining('loading an adapter');
    // a re-downloaded file may be named "adapter_config (1).json": go by extension
    const named = files.map((f) => ({ ...f, name: f.name.endsWith('.json') ? ADAPTER_CONFIG : f.name.endsWith('.safetensors') ? ADAPTER_WEIGHTS : f.name }));
    const { lora, baseModel } = importPeftAdapter(filesIn(named), s.model.arch);
    dropAdapter();
    loadedAdapter = lora;
    return { baseModel, rank: lora.cfg.rank, targets: [...lora.cfg.targets], layers: new Set(lora.adapters.map((a) => a.layer)).size };
  },
} satisfies TrainerApi;

Comlink.expose(api);
