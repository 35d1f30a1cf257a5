// The worker as the page sees it: starting, ready, failed or dead; which backend runs and why the others do not;
// the built-in datasets and the loaded model. One worker at a time; a restart makes a fresh one.

import type { BackendReport } from '../../core/backend';
import type { Backend, RunConfig } from '../../core/config';
import { explainEngineError } from '../../core/engine-errors';
import { BUILT_IN_MODELS, isBuiltInModel } from '../../core/rules';
import type { Capabilities, DatasetInfo, LessonInfo, ModelInfo } from '../../protocol';
import { TrainerClient } from '../trainer-client';

export type EngineStatus = 'starting' | 'ready' | 'failed' | 'dead';

export class Engine {
  status = $state<EngineStatus>('starting');
  pref = $state<Backend | 'auto'>('auto');
  report = $state.raw<BackendReport | null>(null);
  capabilities = $state.raw<Capabilities | null>(null);
  datasets = $state.raw<DatasetInfo[]>([]);
  lessons = $state.raw<LessonInfo[]>([]);
  model = $state.raw<ModelInfo | null>(null);
  modelLoading = $state(false);
  modelError = $state<string | null>(null);
  /** Models imported into this worker (they go with it: a restarted engine has none). */
  imported = $state.raw<ModelInfo[]>([]);
  error = $state<string | null>(null); // why the engine failed to start, or why the worker died

  /** The base-model picker's choices: built-in, then imported. */
  readonly modelOptions: readonly (readonly [string, string])[] = $derived([...BUILT_IN_MODELS, ...this.imported.map((m) => [m.name, `${m.name} (imported)`] as const)]);

  client: TrainerClient | null = null;

  constructor(private readonly onDeath: (message: string) => void) {}

  get ready(): boolean {
    return this.status === 'ready';
  }

  /** (Re)starts the worker on a backend preference. */
  async start(pref: Backend | 'auto'): Promise<void> {
    this.client?.dispose();
    this.pref = pref;
    this.status = 'starting';
    this.error = null;
    this.report = null;
    this.model = null;
    this.imported = [];
    const client = new TrainerClient((message) => {
      if (this.client !== client) return;
      this.status = 'dead';
      this.error = message;
      this.onDeath(message);
    });
    this.client = client;
    try {
      const { report, capabilities } = await client.init(pref);
      if (this.client !== client) return;
      this.report = report;
      this.capabilities = capabilities;
      this.datasets = await client.guard(client.api.listDatasets());
      this.lessons = await client.guard(client.api.listLessons());
      this.status = 'ready';
    } catch (e) {
      if (this.client !== client) return;
      if ((this.status as EngineStatus) !== 'dead') {
        this.status = 'failed';
        this.error = (e as Error).message;
      }
    }
  }

  /** Names a model this engine can load: built-in, or imported into it. */
  knows(name: string): boolean {
    return isBuiltInModel(name) || this.imported.some((m) => m.name === name);
  }

  /** An import finished in the worker: it is the loaded model now, and one of the picker's choices. */
  addImported(info: ModelInfo) {
    this.imported = [...this.imported.filter((m) => m.name !== info.name), info];
    this.model = info;
    this.modelError = null;
  }

  async loadModel(config: RunConfig): Promise<void> {
    const client = this.client;
    if (!client || !this.ready) return;
    this.modelLoading = true;
    this.modelError = null;
    try {
      this.model = await client.guard(client.api.loadModel(config));
    } catch (e) {
      this.model = null;
      this.modelError = explainEngineError((e as Error).message, 'model');
    } finally {
      this.modelLoading = false;
    }
  }
}
