// A session: one backend, one loaded base model, and the runs trained on it. The CLI, the Worker, the lessons
// and the tests all go through here, so "set up a run" means the same thing everywhere.

import * as tf from '@tensorflow/tfjs';
import type { AssetLoader } from './assets';
import { initBackend, type BackendOptions, type BackendReport } from './backend';
import { modelProblems, stepMemoryProblem, validate, type MemoryLimit, type RunConfig } from './config';
import { prepareData, type PreparedData } from './data/prepare';
import type { DataRecord } from './data/types';
import { perExampleLoss, type ModelView } from './eval/evaluate';
import { generate, type GenerateOptions, type Generation } from './eval/generate';
import { loadModel, type LoadedModel } from './model/checkpoint';
import { LoraSet } from './model/lora';
import { GPTModel } from './model/model';
import { CharTokenizer } from './tokenizer/char';
import type { Tokenizer } from './tokenizer/types';
import { Trainer } from './train/trainer';
import type { RunHistory, TrainCallbacks } from './train/types';

export interface SessionOptions {
  loader: AssetLoader;
  backend: RunConfig['model']['backend'];
  backendOptions?: BackendOptions;
  memory?: MemoryLimit; // what a model may take here (default: the cap for any device)
}

/** A prepared run: data split and tokenized, adapters built, ready to train. */
export interface Run {
  config: RunConfig;
  data: PreparedData;
  lora: LoraSet | null;
  trainer: Trainer;
  view: ModelView;
  history?: RunHistory;
}

export class Session {
  private loaded: LoadedModel | null = null;
  private baseWeights: Map<string, Float32Array> | null = null;
  current: Run | null = null;

  private constructor(
    readonly opts: SessionOptions,
    readonly backend: BackendReport,
  ) {}

  static async create(opts: SessionOptions): Promise<Session> {
    return new Session(opts, await initBackend(opts.backend, opts.backendOptions));
  }

  get model(): GPTModel {
    if (!this.loaded) throw new Error('no model loaded yet');
    return this.loaded.model;
  }
  /** The loaded model, or null before one is loaded. */
  get loadedModel(): LoadedModel | null {
    return this.loaded;
  }
  get tokenizer(): Tokenizer {
    return this.loaded?.tokenizer ?? new CharTokenizer();
  }

  /** Loads a built-in model by name, or builds a random one ("random") with the config's arch. */
  async loadModel(c: RunConfig): Promise<LoadedModel> {
    const same = this.loaded && this.loaded.config.name === c.model.name;
    // a "random" model is defined by its shape (and seed): a changed arch means a new model
    if (same && (c.model.name !== 'random' || JSON.stringify(this.loaded!.model.arch) === JSON.stringify(c.model.arch)))
      return this.loaded!;
    // a random model is built from the config's arch: check it (size included) before allocating anything
    if (c.model.name === 'random') {
      const problem = modelProblems(c, this.opts.memory)[0];
      if (problem) throw problem;
    }
    this.release();
    return this.useModel(
      c.model.name === 'random'
        ? {
            model: GPTModel.random(c.model.arch, c.train.seed),
            tokenizer: new CharTokenizer(),
            config: { name: 'random', arch: c.model.arch, tokenizer: 'char' },
          }
        : await loadModel(this.opts.loader, c.model.name),
    );
  }

  /**
   * Makes a model built elsewhere (e.g. imported from Hugging Face) the session's model. Runs whose
   * config.model.name equals loaded.config.name use it; the session owns it from now on and disposes it.
   */
  async useModel(loaded: LoadedModel): Promise<LoadedModel> {
    if (loaded !== this.loaded) this.release();
    this.loaded = loaded;
    this.baseWeights = new Map([...(await loaded.model.weights())].map(([k, v]) => [k, v.data.slice()]));
    return loaded;
  }

  /** Drops the current run and model (before another model takes their place). */
  private release() {
    this.disposeRun();
    this.loaded?.model.dispose();
    this.loaded = null;
  }

  /** Validates the config, loads model and data, resets the base weights, builds adapters. */
  async prepare(config: RunConfig, custom?: DataRecord[]): Promise<Run> {
    const loaded = await this.loadModel(config);
    const c: RunConfig = { ...config, model: { ...config.model, arch: loaded.model.arch } };
    validate(c, undefined, this.opts.memory);
    const data = await prepareData(c, loaded.tokenizer, this.opts.loader, custom);
    validate(c, data.train.length, this.opts.memory);
    // a step that cannot fit is refused here, with its parts, rather than aborting WebAssembly mid-step
    const longest = Math.max(1, ...data.train.map((e) => e.ids.length - 1));
    const tooBig = stepMemoryProblem(c, Math.ceil(longest / 16) * 16, this.opts.memory, this.backend.backend);
    if (tooBig) throw tooBig;
    this.disposeRun();
    // every run starts from the pretrained weights (a previous full fine-tune changed them)
    loaded.model.setWeights(this.baseWeights!);
    const lora = c.train.method === 'lora' ? new LoraSet(loaded.model.arch, c.lora, c.train.seed + 7) : null;
    const view: ModelView = {
      params: loaded.model.params,
      arch: loaded.model.arch,
      lora,
      embedMode: this.backend.embedMode,
    };
    const trainer = new Trainer({
      model: view,
      config: c,
      data,
      tokenizer: loaded.tokenizer,
      backend: this.backend.backend,
      totalParams: loaded.model.numParams,
    });
    this.current = { config: c, data, lora, trainer, view };
    return this.current;
  }

  async train(cb: TrainCallbacks = {}): Promise<RunHistory> {
    const run = this.current;
    if (!run) throw new Error('prepare a run before training');
    run.history = await run.trainer.run(cb);
    return run.history;
  }

  /** What the base model (no adapters, pretrained weights) does with the current run's data. */
  baseView(): ModelView {
    return { params: this.model.params, arch: this.model.arch, lora: null, embedMode: this.backend.embedMode };
  }

  /** Runs fn on the pretrained model (no adapter, original weights), then puts the fine-tuned weights back. */
  async withBaseModel<T>(fn: (view: ModelView) => Promise<T>): Promise<T> {
    const view = this.baseView();
    if (!this.current || this.current.config.train.method !== 'full') return fn(view);
    // full fine-tuning changed the weights themselves: swap the pretrained ones in for the duration
    const tunedWeights = new Map([...(await this.model.weights())].map(([k, v]) => [k, v.data.slice()]));
    this.model.setWeights(this.baseWeights!);
    try {
      return await fn(view);
    } finally {
      this.model.setWeights(tunedWeights);
    }
  }

  /** Samples from the fine-tuned model (adapter on) or the base model (adapter off, original weights). */
  async generate(prompt: string, o: GenerateOptions, tuned = true): Promise<Generation> {
    if (tuned && this.current) return generate(this.current.view, this.tokenizer, prompt, o);
    return this.withBaseModel((view) => generate(view, this.tokenizer, prompt, o));
  }

  /** Per-example training loss of the current run, highest first: mislabeled and poisoned records float up. */
  async lossTable(): Promise<
    { recordId: string; loss: number; prompt: string; completion: string; flags?: DataRecord['flags'] }[]
  > {
    const run = this.current;
    if (!run) throw new Error('no run');
    const losses = await perExampleLoss(run.view, run.data.train);
    return run.data.records.train
      .map((r, i) => ({
        recordId: r.id,
        loss: losses[i],
        prompt: r.prompt ?? r.text ?? '',
        completion: r.completion ?? '',
        flags: r.flags,
      }))
      .sort((a, b) => b.loss - a.loss);
  }

  private disposeRun() {
    this.current?.lora?.dispose();
    this.current = null;
  }

  dispose() {
    this.disposeRun();
    this.loaded?.model.dispose();
    this.loaded = null;
    tf.disposeVariables();
  }
}
