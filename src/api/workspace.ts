// What the trainer API's pieces share: the session (one model, one run at a time), whether a run is training,
// the models imported in this worker, and a PEFT adapter loaded for sampling. Each guard names what the learner
// tried and what to do instead.

import type { RunConfig } from '../core/config';
import { importHfModel } from '../core/import/hf';
import type { LoadedModel } from '../core/model/checkpoint';
import type { LoraSet } from '../core/model/lora';
import type { Session } from '../core/session';
import type { AdapterInfo, ExportedFiles, ModelInfo, NamedFile, TrainerState } from '../protocol';
import { fileStore, type FileStore } from './model-store';
import type { Transfer } from './progress';

export const infoOf = (m: LoadedModel): ModelInfo => ({
  name: m.config.name,
  arch: m.model.arch,
  numParams: m.model.numParams,
  tokenizer: m.tokenizer.kind,
  description: m.config.description,
});

export class Workspace {
  session: Session | null = null;
  training = false;
  /** Imported models by name: the session keeps one model, so one dropped for another is imported again from its files (in `store`). */
  readonly imported = new Map<string, ModelInfo>();
  /** A PEFT adapter loaded with importAdapter: samples use it (on the pretrained weights) until a run starts or the model changes. */
  adapter: { lora: LoraSet; info: AdapterInfo } | null = null;

  constructor(
    readonly transfer: Transfer,
    readonly store: FileStore = fileStore(),
  ) {}

  state(): TrainerState {
    const loaded = this.session?.loadedModel ?? null;
    return {
      model: loaded && infoOf(loaded),
      tuned: this.session?.current?.history !== undefined,
      adapter: this.adapter?.info ?? null,
      imported: [...this.imported.values()],
    };
  }

  need(): Session {
    if (!this.session) throw new Error('The trainer has not started yet: call init() first.');
    return this.session;
  }

  dropAdapter() {
    this.adapter?.lora.dispose();
    this.adapter = null;
  }

  /** Loads the model a config names: built-in, random, or one imported earlier in this worker. A new model drops an adapter made for the old one. */
  async ensureModel(s: Session, config: RunConfig): Promise<LoadedModel> {
    const before = s.loadedModel;
    const name = config.model.name;
    let loaded: LoadedModel;
    if (this.imported.has(name) && before?.config.name !== name) {
      const files = await this.store.get(name);
      if (!files) throw new Error(`The files of "${name}" are no longer stored in this tab: import the model again.`);
      loaded = await s.useModel(await importHfModel(files, { name }));
    } else loaded = await s.loadModel(config);
    if (loaded !== before) this.dropAdapter();
    return loaded;
  }

  notWhileTraining(what: string) {
    if (this.training) throw new Error(`A run is training: stop it or let it finish before ${what}.`);
  }

  /** The run whose files are exported: the current one, finished. */
  finishedRun(s: Session, what: string) {
    this.notWhileTraining(`exporting ${what}`);
    const run = s.current;
    if (!run) throw new Error(`No run has been trained in this tab yet: train one, then export ${what}.`);
    return run;
  }

  /** Runs fn as the one training job (start and runLesson alike). */
  async asTheTrainingJob<T>(fn: (s: Session) => Promise<T>): Promise<T> {
    if (this.training) throw new Error('A run is already training: stop it first.');
    const s = this.need();
    this.training = true;
    this.dropAdapter();
    try {
      return await fn(s);
    } finally {
      this.training = false;
    }
  }

  /** Files for the page, their bytes transferred. */
  filesOut(files: Record<string, string | Uint8Array>): ExportedFiles {
    const out: NamedFile[] = Object.entries(files).map(([name, v]) => ({
      name,
      bytes: typeof v === 'string' ? new TextEncoder().encode(v) : v,
    }));
    return this.transfer({ files: out }, [...new Set(out.map((f) => f.bytes.buffer as ArrayBuffer))]);
  }
}
