// The page's end of the worker: starts it, wraps it with comlink, and turns a crash into a plain sentence.
// A backend change or a restart after a crash makes a fresh worker (a lost GPU device cannot be revived).

import { proxy, releaseProxy, wrap, type Remote } from 'comlink';
import type { Backend } from '../core/config';
import type { InitResult, TrainerApi } from '../protocol';

/**
 * wasm threads asked for in the page's address (?threads=N, 1-8): for trying the threaded build on a machine where
 * the default (half the logical cores) is one thread. Anything else: the default.
 */
export function threadsAsked(search: string): number | undefined {
  const raw = new URLSearchParams(search).get('threads');
  const n = raw === null ? NaN : Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= 8 ? n : undefined;
}

/** How long a start with wasm threads may take before the page restarts the engine on one thread. */
export const THREADED_START_MS = 120_000;

/** ?threadStartMs=N (a test's way to make the threaded start "too slow"); else THREADED_START_MS. */
export function threadedStartMs(search: string): number {
  const n = Number(new URLSearchParams(search).get('threadStartMs') ?? NaN);
  return Number.isInteger(n) && n >= 0 ? n : THREADED_START_MS;
}

export class WorkerDied extends Error {
  override name = 'WorkerDied';
}

export class TrainerClient {
  readonly api: Remote<TrainerApi>;
  private readonly worker: Worker;
  private readonly died: Promise<never>;
  private alive = true;

  constructor(onDeath: (message: string) => void) {
    this.worker = new Worker(new URL('../../workers/trainer.worker.ts', import.meta.url), {
      type: 'module',
      name: 'trainer',
    });
    let die!: (message: string) => void;
    const died = new Promise<never>((_, reject) => {
      die = (message) => {
        if (!this.alive) return;
        this.alive = false;
        reject(new WorkerDied(message));
        onDeath(message);
      };
    });
    died.catch(() => undefined); // observed through guard(); never an unhandled rejection
    this.died = died;
    this.worker.addEventListener('error', (e) => {
      e.preventDefault();
      die(`The training worker crashed${e.message ? ` (${e.message})` : ''}.`);
    });
    this.worker.addEventListener('messageerror', () =>
      die('The training worker sent a message the page could not read.'),
    );
    this.api = wrap<TrainerApi>(this.worker);
    this.fatal = (message) => die(message);
  }

  /** Called by the worker (through a comlink proxy) when the GPU device is lost. */
  private readonly fatal: (message: string) => void;

  get isAlive(): boolean {
    return this.alive;
  }

  /** Starts the engine; wasm may use `wasmThreads` threads (see Engine.start for how many). */
  init(pref: Backend | 'auto', wasmThreads: number): Promise<InitResult> {
    return this.guard(this.api.init(pref, proxy(this.fatal), wasmThreads));
  }

  /** The call's result, or a WorkerDied rejection if the worker dies first (a dead worker never answers). */
  guard<T>(call: Promise<T>): Promise<T> {
    return Promise.race([call, this.died]);
  }

  dispose() {
    this.alive = false;
    this.api[releaseProxy]();
    this.worker.terminate();
  }
}
