// The worker contract, defined once: workers/trainer.worker.ts builds an object that `satisfies TrainerApi`,
// the page does `wrap<TrainerApi>(worker)`. Step series cross as one transferred Float64Array per batch.

import type { BackendReport } from './core/backend';
import type { Backend, DeepPartial, ModelArch, RunConfig } from './core/config';
import type { DataFormat, ParseIssue } from './core/data/parse';
import type { DataReport } from './core/data/report';
import type { DataRecord } from './core/data/types';
import type { GenerateOptions, Generation } from './core/eval/generate';
import type { Diagnosis, Lesson, Measures } from './core/lessons/types';
import type { Tokenizer } from './core/tokenizer/types';
import type { EvalEvent, RunHistory, StartEvent, StepEvent } from './core/train/types';

/** What the worker's environment offers, found without switching tfjs backends. */
export interface Capabilities {
  webgpu: string | null; // null when usable, else why not
  webgl: string | null;
  adapter?: { vendor: string; architecture: string; device: string; description: string };
}

export interface InitResult {
  report: BackendReport;
  capabilities: Capabilities;
  state: TrainerState;
}

/** A built-in dataset, as listed in public/datasets/index.json. */
export interface DatasetInfo {
  name: string;
  file: string;
  kind: string;
  records: number;
  description: string;
}

export interface ModelInfo {
  name: string;
  arch: ModelArch;
  numParams: number;
  tokenizer: Tokenizer['kind'];
  description?: string;
}

/** A file crossing to or from the worker (its bytes transferred, not copied). */
export interface NamedFile {
  name: string;
  bytes: Uint8Array;
}

export interface ExportedFiles {
  files: NamedFile[];
}

/** Where an imported GPT-2-family model comes from: files the user chose, or a Hugging Face id to download. */
export type ModelSource = { files: NamedFile[]; name: string } | { hfId: string; maxBytes: number };

/** What a Hugging Face model costs before its weights are downloaded. */
export interface HfModelSize {
  id: string;
  arch: ModelArch;
  params: number;
  bytesF32: number; // as the engine holds it in memory
  fileBytes: number | null; // model.safetensors on the hub, when the hub says
}

/** One update while a model imports: bytes of a file downloaded, or the conversion under way. */
export interface ImportProgress {
  phase: 'download' | 'convert';
  file: string;
  loaded: number;
  total: number | null;
}
export type ImportListener = (p: ImportProgress) => void;

/** A PEFT adapter loaded for sampling. */
export interface AdapterInfo {
  baseModel: string | null; // base_model_name_or_path in adapter_config.json
  rank: number;
  targets: string[];
  layers: number;
}

/**
 * What the worker holds now. Every call that changes it returns it (or hands it to a listener), and the page keeps
 * the latest as it is rather than guessing what a call did.
 */
export interface TrainerState {
  model: ModelInfo | null; // the loaded base model
  tuned: boolean; // a run has trained on it here: its weights can be sampled, ranked by loss and exported
  adapter: AdapterInfo | null; // a PEFT adapter loaded for sampling (until a run starts or the model changes)
  imported: ModelInfo[]; // models imported into this worker; they go with it
}

export interface Validation {
  format: DataFormat;
  records: DataRecord[];
  errors: ParseIssue[]; // parse errors, each naming its line
  report: DataReport;
}

/** The numeric fields of a StepEvent, in the order they sit in a packed step batch. */
export const STEP_FIELDS = [
  'step',
  'epoch',
  'loss',
  'lr',
  'gradNorm',
  'tokensPerSec',
  'msPerStep',
  'numTensors',
  'numBytes',
] as const satisfies readonly (keyof StepEvent)[];

/** The sample taken at an evaluation: the first validation prompt and the model's answer, apart. */
export interface Sample {
  step: number;
  prompt: string;
  text: string;
}

/** A run is prepared and about to take its first step (the previous run and any loaded adapter are gone). */
export interface RunStart extends StartEvent {
  totalParams: number;
  state: TrainerState;
}

/** A run as it ended, and what the worker holds after it. */
export interface RunResult {
  history: RunHistory;
  state: TrainerState;
}

/** One throttled progress update: the steps since the last one, packed row by row (STEP_FIELDS per row). */
export interface Progress {
  steps: Float64Array;
  evals: EvalEvent[];
  samples: Sample[];
}

/** What the page hears while a run trains: its start, then throttled progress. */
export interface RunListener {
  started(s: RunStart): void;
  progress(p: Progress): void;
}
export type FatalListener = (message: string) => void;

export interface GenerateRequest extends GenerateOptions {
  prompt: string;
}

export interface LossRow {
  recordId: string;
  loss: number;
  prompt: string;
  completion: string;
  flags?: DataRecord['flags'];
}

/** A lesson as data (its measure and diagnose functions stay in the worker). */
export type LessonInfo = Omit<Lesson, 'measure' | 'diagnose'>;

/** What the page hears while a lesson variant trains: each trial starts, streams like a plain run, and ends. */
export interface LessonListener extends RunListener {
  trialStart(t: { label: string; index: number; of: number; config: RunConfig }): void;
  trialEnd(t: { label: string; index: number; history: RunHistory; seconds: number; state: TrainerState }): void;
}

/** A lesson variant, trained, measured and diagnosed by the core runner (src/core/lessons/runner.ts). */
export interface LessonOutcome {
  lesson: string;
  variant: string;
  diagnosis: Diagnosis;
  measures: Measures;
  trials: { label: string; seconds: number }[];
  state: TrainerState;
}

export interface TrainerApi {
  /**
   * Starts tfjs on a backend (auto: the fastest that works); onFatal hears of a lost GPU device. wasmThreads: the
   * threads the wasm backend may use (the page's default when absent); it counts only before the backend first
   * starts in this worker, which is why a backend change makes a new worker.
   */
  init(pref: Backend | 'auto', onFatal?: FatalListener, wasmThreads?: number): Promise<InitResult>;
  listDatasets(): Promise<DatasetInfo[]>;
  /** What the worker holds now (after a call that failed, say). */
  state(): Promise<TrainerState>;
  /** Loads (or builds, for "random") the model named in the config; state.model describes it. */
  loadModel(config: RunConfig): Promise<TrainerState>;
  validateData(text: string, fileName: string, config: RunConfig): Promise<Validation>;
  /** Trains one run; resolves with its history when it completes, early-stops, diverges or is stopped. */
  start(config: RunConfig, custom: DataRecord[] | null, listener: RunListener): Promise<RunResult>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
  /** A sample from the fine-tuned model (tuned) or the base model; works before any run with the base, and mid-run between two steps. */
  generate(req: GenerateRequest, tuned: boolean): Promise<Generation>;
  lossTable(): Promise<LossRow[]>;
  listLessons(): Promise<LessonInfo[]>;
  /**
   * Trains a lesson variant through the core runner, as the CLI and the tests do (every trial of a k-fold or a
   * search), then measures and diagnoses it. override: the learner's changes to the variant's settings.
   */
  runLesson(
    lessonId: string,
    variantId: string,
    override: DeepPartial<RunConfig>,
    listener: LessonListener,
  ): Promise<LessonOutcome>;
  /** The size of a Hugging Face GPT-2 model (config.json and a HEAD request), before anything large is fetched. */
  probeHfModel(hfId: string): Promise<HfModelSize>;
  /** Imports a GPT-2-family model and makes it the loaded one; runs whose model.name is its name use it. */
  importModel(source: ModelSource, onProgress?: ImportListener): Promise<TrainerState>;
  /** The current LoRA run's adapter as PEFT files (adapter_config.json, adapter_model.safetensors). */
  exportAdapter(): Promise<ExportedFiles>;
  /** The current run's model with its adapter merged in, as a Hugging Face GPT-2 folder (config.json, model.safetensors). */
  exportMerged(): Promise<ExportedFiles>;
  /** The current run as a Python project: train.py, data.jsonl, requirements.txt. */
  exportPython(): Promise<ExportedFiles>;
  /** Loads PEFT adapter files onto the loaded model; generate(…, tuned = true) then samples with it. */
  importAdapter(files: NamedFile[]): Promise<TrainerState>;
}

/** Unpacks a step batch into StepEvents. */
export function unpackSteps(packed: Float64Array): StepEvent[] {
  const n = STEP_FIELDS.length;
  const out: StepEvent[] = [];
  for (let r = 0; r + n <= packed.length; r += n) {
    const e = { type: 'step' } as StepEvent;
    STEP_FIELDS.forEach((f, i) => (e[f] = packed[r + i]));
    out.push(e);
  }
  return out;
}

/** Packs StepEvents row by row into one Float64Array (to transfer, not copy). */
export function packSteps(steps: readonly StepEvent[]): Float64Array {
  const n = STEP_FIELDS.length;
  const out = new Float64Array(steps.length * n);
  steps.forEach((s, r) => STEP_FIELDS.forEach((f, i) => (out[r * n + i] = s[f])));
  return out;
}
