// The worker as the page sees it: starting, ready, failed or dead; which backend runs and why the others do not;
// the built-in datasets, and what the worker holds (its latest TrainerState, as it sent it). One worker at a time;
// a restart makes a fresh one.

import type { BackendReport } from '../../core/backend';
import type { Backend, RunConfig } from '../../core/config';
import { explainEngineError } from '../../core/engine-errors';
import { BUILT_IN_MODELS, defaultWasmThreads, isBuiltInModel } from '../../core/rules';
import type { Capabilities, DatasetInfo, LessonInfo, TrainerState } from '../../protocol';
import { TrainerClient, threadedStartMs, threadsAsked } from '../trainer-client';

export type EngineStatus = 'starting' | 'ready' | 'failed' | 'dead';

/** What a worker that has not started, or has died, holds. */
const NOTHING: TrainerState = { model: null, tuned: false, adapter: null, imported: [] };

export class Engine {
  status = $state<EngineStatus>('starting');
  pref = $state<Backend | 'auto'>('auto');
  report = $state.raw<BackendReport | null>(null);
  capabilities = $state.raw<Capabilities | null>(null);
  datasets = $state.raw<DatasetInfo[]>([]);
  lessons = $state.raw<LessonInfo[]>([]);
  /** What the worker holds, as its last answer said: every call that changes it returns it. */
  state = $state.raw<TrainerState>(NOTHING);
  modelLoading = $state(false);
  modelError = $state<string | null>(null);
  readonly model = $derived(this.state.model);
  /** Models imported into this worker (they go with it: a restarted engine has none). */
  readonly imported = $derived(this.state.imported);
  error = $state<string | null>(null); // why the engine failed to start, or why the worker died
  /** Set when a start with wasm threads took too long and the engine was restarted on one thread. */
  threadNote = $state<string | null>(null);
  private oneThread = false; // after such a restart, every later start in this tab stays on one thread

  /** The base-model picker's choices: built-in, then imported. */
  readonly modelOptions: readonly (readonly [string, string])[] = $derived([
    ...BUILT_IN_MODELS,
    ...this.imported.map((m) => [m.name, `${m.name} (imported)`] as const),
  ]);

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
    this.state = NOTHING;
    const client = new TrainerClient((message) => {
      if (this.client !== client) return;
      this.state = NOTHING;
      this.status = 'dead';
      this.error = message;
      this.onDeath(message);
    });
    this.client = client;
    const search = globalThis.location?.search ?? '';
    const threads = this.oneThread
      ? 1
      : (threadsAsked(search) ?? defaultWasmThreads(globalThis.navigator?.hardwareConcurrency ?? 1));
    const limitMs = threadedStartMs(search);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      // a threaded start that never finishes (pthreads that cannot start in some browser) must not leave the page
      // "starting" forever: past the limit the engine restarts on the single-threaded build
      const init = client.init(pref, threads);
      const limit =
        threads > 1 ? new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), limitMs))) : null;
      const first = await (limit ? Promise.race([init, limit]) : init);
      if (first === 'late') {
        if (this.client !== client) return;
        init.catch(() => undefined);
        this.oneThread = true;
        this.threadNote = `The engine did not start on ${threads} wasm threads within ${Math.round(limitMs / 1000)} s, so it was restarted on one thread.`;
        return this.start(pref);
      }
      const { report, capabilities, state } = first;
      if (this.client !== client) return;
      this.report = report;
      this.state = state;
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
    } finally {
      clearTimeout(timer);
    }
  }

  /** Names a model this engine can load: built-in, or imported into it. */
  knows(name: string): boolean {
    return isBuiltInModel(name) || this.imported.some((m) => m.name === name);
  }

  /** Runs a call that changes the worker's state and keeps the state it returns; after a failure, asks for it. */
  async change<T>(call: (client: TrainerClient) => Promise<T>, stateOf: (result: T) => TrainerState): Promise<T> {
    const client = this.client!;
    try {
      const result = await client.guard(call(client));
      if (this.client === client) this.state = stateOf(result);
      return result;
    } catch (e) {
      if (this.client === client && client.isAlive)
        this.state = await client.guard(client.api.state()).catch(() => this.state);
      throw e;
    }
  }

  async loadModel(config: RunConfig): Promise<void> {
    const client = this.client;
    if (!client || !this.ready) return;
    this.modelLoading = true;
    this.modelError = null;
    try {
      await this.change(
        (c) => c.api.loadModel(config),
        (state) => state,
      );
    } catch (e) {
      this.modelError = explainEngineError((e as Error).message, 'model');
    } finally {
      this.modelLoading = false;
    }
  }
}
