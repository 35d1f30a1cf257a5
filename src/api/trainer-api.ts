// The engine as the page sees it: one object that `satisfies TrainerApi`, built from src/core's Session. Its
// browser-only parts (asset loader, wasm URLs, fetch, GPU probe, comlink's transfer) come in as arguments, so the
// worker only builds those and exposes the result, and the unit tests run the same object in Node.

import * as tf from '@tensorflow/tfjs';
import { AssetError, type AssetLoader } from '../core/assets';
import type { Backend, MemoryLimit, RunConfig } from '../core/config';
import { isPromptCompletion, promptText } from '../core/data/format';
import { parseDataset } from '../core/data/parse';
import { validationReport } from '../core/data/report';
import type { DataRecord } from '../core/data/types';
import { generate } from '../core/eval/generate';
import { hfFileUrl, remoteSize, type HfFiles } from '../core/import/hf-gpt2';
import { estimateHfSize, fetchHfModel, importHfModel } from '../core/import/hf';
import {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  exportMergedHfGpt2,
  exportPeftAdapter,
  importPeftAdapter,
} from '../core/import/peft';
import { exportPythonProject } from '../core/import/python-export';
import { LESSONS, lessonById } from '../core/lessons/index';
import { LessonStopped, runLesson } from '../core/lessons/runner';
import type { LoadedModel } from '../core/model/checkpoint';
import type { LoraSet } from '../core/model/lora';
import { isBuiltInModel, lessonConfig } from '../core/rules';
import { Session, type Run } from '../core/session';
import type { RunHistory, TrainCallbacks } from '../core/train/types';
import type {
  AdapterInfo,
  Capabilities,
  DatasetInfo,
  ExportedFiles,
  FatalListener,
  ImportProgress,
  LessonInfo,
  ModelInfo,
  NamedFile,
  RunListener,
  TrainerApi,
  TrainerState,
} from '../protocol';
import { ProgressBatcher, type Transfer } from './progress';

export interface TrainerDeps {
  loader: AssetLoader; // the shipped model, tokenizer and datasets: fetched in the page, read from disk in Node
  wasmPaths?: Record<string, string>; // the bundled tfjs-backend-wasm binaries (Node finds them itself)
  fetch?: typeof fetch; // for huggingface.co
  probeGpu?: () => Promise<Capabilities>; // what WebGPU and WebGL offer, before tfjs switches to them
  memory?: MemoryLimit; // what a model may take here
  transfer?: Transfer; // comlink's transfer in the worker: buffers move to the page instead of being copied
  candidates?: string[]; // the backends auto tries, in order (default: every one)
  /** Sets up wasm threads before the backend starts (the page's src/core/kernels/wasm/threads.ts); absent in Node: one thread. */
  wasmThreads?: (asked: number | undefined) => void;
}

/** At most four progress messages a second reach the page. */
export const PROGRESS_MS = 250;
/** Tokens of the sample taken at each evaluation when the data has no questions to answer. */
const SAMPLE_TOKENS = 32;
const NO_GPU: Capabilities = { webgpu: 'not probed here', webgl: 'not probed here' };

/** The name an imported model goes by: the one chosen, else the checkpoint's own, never a built-in model's. */
export function importedModelName(chosen: string, config: string | Uint8Array | undefined): string {
  let c: Record<string, unknown> = {};
  try {
    if (config !== undefined) c = JSON.parse(typeof config === 'string' ? config : new TextDecoder().decode(config));
  } catch {
    // importHfModel names the JSON error
  }
  const saved = c?._name_or_path;
  const type = typeof c?.model_type === 'string' && /^[\w-]+$/.test(c.model_type) ? c.model_type : 'model';
  const name = chosen || (typeof saved === 'string' && saved ? saved : `local-${type}`);
  return isBuiltInModel(name) ? `${name} (imported)` : name;
}

/** The prompt whose completion is sampled at each evaluation: the first validation record's. */
function samplePrompt(records: DataRecord[], separator: string): string | null {
  const r = records[0];
  if (!r) return null;
  if (isPromptCompletion(r)) return promptText(r, separator);
  return (r.text ?? '').slice(0, 40) || null;
}

/** config.json of a Hugging Face model, with errors a learner can act on. */
async function fetchHfConfig(hfId: string, get: typeof fetch): Promise<string> {
  let res: Response;
  try {
    res = await get(hfFileUrl(hfId, 'config.json'));
  } catch (e) {
    throw new AssetError(hfId, `could not be reached on huggingface.co (${(e as Error).message})`);
  }
  if (res.status === 404)
    throw new AssetError(hfId, 'was not found on huggingface.co (no config.json); check the model id');
  if (!res.ok)
    throw new AssetError(
      hfId,
      `config.json could not be fetched (HTTP ${res.status}${res.status === 401 ? ': gated or private models need a login this page does not have' : ''})`,
    );
  return res.text();
}

const infoOf = (m: LoadedModel): ModelInfo => ({
  name: m.config.name,
  arch: m.model.arch,
  numParams: m.model.numParams,
  tokenizer: m.tokenizer.kind,
  description: m.config.description,
});
const filesIn = (files: NamedFile[]): HfFiles => Object.fromEntries(files.map((f) => [f.name, f.bytes]));

export function createTrainerApi(deps: TrainerDeps) {
  const transfer: Transfer = deps.transfer ?? ((v) => v);
  const get = deps.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  const { loader } = deps;

  let session: Session | null = null;
  let training = false;
  /** Imported models by name: the session keeps one model, so one dropped for another is imported again from its files. */
  const imported = new Map<string, { files: HfFiles; info: ModelInfo }>();
  /** A PEFT adapter loaded with importAdapter: samples use it (on the pretrained weights) until a run starts or the model changes. */
  let loadedAdapter: { lora: LoraSet; info: AdapterInfo } | null = null;

  function state(): TrainerState {
    const loaded = session?.loadedModel ?? null;
    return {
      model: loaded && infoOf(loaded),
      tuned: session?.current?.history !== undefined,
      adapter: loadedAdapter?.info ?? null,
      imported: [...imported.values()].map((m) => m.info),
    };
  }

  function need(): Session {
    if (!session) throw new Error('The trainer has not started yet: call init() first.');
    return session;
  }

  function dropAdapter() {
    loadedAdapter?.lora.dispose();
    loadedAdapter = null;
  }

  /** Loads the model a config names: built-in, random, or one imported earlier in this worker. A new model drops an adapter made for the old one. */
  async function ensureModel(s: Session, config: RunConfig): Promise<LoadedModel> {
    const before = s.loadedModel;
    const files = imported.get(config.model.name)?.files;
    const loaded =
      files && before?.config.name !== config.model.name
        ? await s.useModel(await importHfModel(files, { name: config.model.name }))
        : await s.loadModel(config);
    if (loaded !== before) dropAdapter();
    return loaded;
  }

  /** Files for the page, their bytes transferred. */
  function filesOut(files: Record<string, string | Uint8Array>): ExportedFiles {
    const out: NamedFile[] = Object.entries(files).map(([name, v]) => ({
      name,
      bytes: typeof v === 'string' ? new TextEncoder().encode(v) : v,
    }));
    return transfer({ files: out }, [...new Set(out.map((f) => f.bytes.buffer as ArrayBuffer))]);
  }

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

  /** Runs fn as the one training job (start and runLesson alike). */
  async function asTheTrainingJob<T>(fn: (s: Session) => Promise<T>): Promise<T> {
    if (training) throw new Error('A run is already training: stop it first.');
    const s = need();
    training = true;
    dropAdapter();
    try {
      return await fn(s);
    } finally {
      training = false;
    }
  }

  /**
   * Callbacks that stream a prepared run's start, steps, evaluations and samples to the page; done() flushes the
   * rest. The trainer awaits them, so the sample of an evaluation reads that evaluation's weights.
   */
  function streamRun(s: Session, run: Run, listener: RunListener): { callbacks: TrainCallbacks; done(): void } {
    const batcher = new ProgressBatcher((p) => listener.progress(p), PROGRESS_MS, transfer);
    const prompt = samplePrompt(run.data.records.val, run.config.data.separator);
    const callbacks: TrainCallbacks = {
      onStart: (e) => {
        void Promise.resolve(listener.started({ ...e, totalParams: s.model.numParams, state: state() })).catch(
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

  return {
    async init(pref: Backend | 'auto', onFatal?: FatalListener, wasmThreads?: number) {
      deps.wasmThreads?.(wasmThreads);
      session?.dispose();
      session = null;
      loadedAdapter = null; // its variables went with the session's
      imported.clear();
      const capabilities = deps.probeGpu ? await deps.probeGpu() : NO_GPU;
      session = await Session.create({
        loader,
        backend: pref,
        backendOptions: { wasmPaths: deps.wasmPaths, candidates: deps.candidates },
        memory: deps.memory,
      });
      const report = session.backend;
      // a GPU backend's device can be lost (driver reset, another tab's crash): the page must start a new worker
      const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ message: string; reason?: string }> } })
        .device;
      if (onFatal)
        void device?.lost?.then((info) =>
          onFatal(
            `The GPU device was lost (${info.reason ?? 'unknown reason'}${info.message ? `: ${info.message}` : ''}).`,
          ),
        );
      return { report, capabilities, state: state() };
    },

    async state() {
      return state();
    },

    async listDatasets() {
      const all = JSON.parse(await loader.text('datasets/index.json')) as DatasetInfo[];
      // only task datasets under datasets/ can be trained on by name
      return all.filter((d) => d.file === `datasets/${d.name}.jsonl`);
    },

    async loadModel(config: RunConfig) {
      await ensureModel(need(), config);
      return state();
    },

    async validateData(text: string, fileName: string, config: RunConfig) {
      const s = need();
      const { records, errors, format } = parseDataset(text, { fileName });
      // the loaded model's context (the tokenizer too is the loaded model's); the config's before one loads
      const blockSize =
        s.current?.config.model.arch.blockSize ?? s.loadedModel?.model.arch.blockSize ?? config.model.arch.blockSize;
      const report = validationReport(records, s.tokenizer, {
        blockSize,
        separator: config.data.separator,
        appendEos: config.data.appendEos,
      });
      return { records, errors, format, report };
    },

    async start(config, custom, listener) {
      return asTheTrainingJob(async (s) => {
        await ensureModel(s, config);
        const run = await s.prepare(config, custom ?? undefined);
        const stream = streamRun(s, run, listener);
        const history = await s.train(stream.callbacks);
        stream.done();
        return { history, state: state() };
      });
    },

    async runLesson(lessonId, variantId, override, listener) {
      const lesson = lessonById(lessonId);
      return asTheTrainingJob(async (s) => {
        await ensureModel(s, lessonConfig(lesson, variantId, override));
        // the same core function the CLI and the tests run; each trial streams to the page as a run of its own
        let stream: ReturnType<typeof streamRun> | null = null;
        let trial = { label: '', index: 0 };
        // the trial's last progress, then its end, reach the page before the next trial starts or the outcome
        const end = async (history: RunHistory, seconds: number) => {
          stream?.done();
          stream = null;
          await listener.trialEnd({ ...trial, history, seconds, state: state() });
        };
        try {
          const result = await runLesson(s, lesson, variantId, {
            override,
            onTrialStart: (run, label, index, of) => {
              trial = { label, index };
              void Promise.resolve(listener.trialStart({ label, index, of, config: run.config })).catch(
                () => undefined,
              );
              stream = streamRun(s, run, listener);
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
            state: state(),
          };
        } catch (e) {
          if (e instanceof LessonStopped) await end(e.history, NaN);
          throw e;
        }
      });
    },

    async pause() {
      if (training) session?.current?.trainer.pause();
    },
    async resume() {
      session?.current?.trainer.resume();
    },
    async stop() {
      session?.current?.trainer.stop();
    },

    async generate(req, tuned) {
      const s = need();
      const { prompt, ...opts } = req;
      const adapter = loadedAdapter?.lora;
      const sample = () =>
        tuned && adapter
          ? s.withBaseModel((view) => generate({ ...view, lora: adapter }, s.tokenizer, prompt, opts))
          : s.generate(prompt, opts, tuned);
      // mid-run, between two steps of the trainer, so the weights hold still while the sample reads them
      return s.current ? s.current.trainer.between(sample) : sample();
    },

    async lossTable() {
      return need().lossTable();
    },

    async listLessons() {
      return LESSONS.map(({ measure: _m, diagnose: _d, ...info }): LessonInfo => info);
    },

    async probeHfModel(hfId) {
      const { arch, params, bytesF32 } = estimateHfSize(await fetchHfConfig(hfId, get));
      return {
        id: hfId,
        arch,
        params,
        bytesF32,
        fileBytes: await remoteSize(hfFileUrl(hfId, 'model.safetensors'), { fetch: get }).catch(() => null),
      };
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
      const files =
        'hfId' in source
          ? await fetchHfModel(source.hfId, {
              fetch: get,
              maxBytes: source.maxBytes,
              onProgress: (p) => progress({ phase: 'download', ...p }),
            })
          : filesIn(source.files);
      const name =
        'hfId' in source
          ? importedModelName(source.hfId, undefined)
          : importedModelName(source.name, files['config.json']);
      progress({ phase: 'convert', file: 'model.safetensors', loaded: 0, total: null }, true);
      const loaded = await importHfModel(files, { name });
      imported.set(name, { files, info: infoOf(loaded) });
      await s.useModel(loaded);
      dropAdapter();
      return state();
    },

    async exportAdapter() {
      const s = need();
      const run = finishedRun(s, 'an adapter');
      if (!run.lora)
        throw new Error(
          'The current run fine-tuned every weight (train.method "full"): it has no LoRA adapter to export; export the merged model instead.',
        );
      return filesOut(await exportPeftAdapter(run.lora, { baseModel: run.config.model.name }));
    },

    async exportMerged() {
      const s = need();
      notWhileTraining('exporting the merged model');
      const eosId = s.tokenizer.eosId;
      const adapter = loadedAdapter?.lora;
      // an imported adapter goes onto the pretrained weights, as it is sampled; else the run's adapter or full fine-tune
      const files = adapter
        ? await s.withBaseModel(() => exportMergedHfGpt2(s.model, adapter, { eosId }))
        : await exportMergedHfGpt2(s.model, s.current?.lora ?? null, { eosId });
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
      const named = files.map((f) => ({
        ...f,
        name: f.name.endsWith('.json') ? ADAPTER_CONFIG : f.name.endsWith('.safetensors') ? ADAPTER_WEIGHTS : f.name,
      }));
      const { lora, baseModel } = importPeftAdapter(filesIn(named), s.model.arch);
      dropAdapter();
      loadedAdapter = {
        lora,
        info: {
          baseModel,
          rank: lora.cfg.rank,
          targets: [...lora.cfg.targets],
          layers: new Set(lora.adapters.map((a) => a.layer)).size,
        },
      };
      return state();
    },
  } satisfies TrainerApi;
}
