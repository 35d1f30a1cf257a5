// The engine as the page sees it: one object that `satisfies TrainerApi`, built from src/core's Session. Its
// browser-only parts (asset loader, wasm URLs, fetch, GPU probe, comlink's transfer) come in as arguments, so the
// worker only builds those and exposes the result, and the unit tests run the same object in Node.
//
// The pieces: workspace.ts (the session and the state every piece shares, with its guards), runs.ts (training,
// lessons, samples), models.ts (loading and importing), files.ts (exports and adapters in); here the start-up and
// the data and lesson lists.

import * as tf from '@tensorflow/tfjs';
import type { AssetLoader } from '../core/assets';
import type { Backend, MemoryLimit, RunConfig } from '../core/config';
import { parseDataset } from '../core/data/parse';
import { validationReport } from '../core/data/report';
import { LESSONS } from '../core/lessons/index';
import { Session } from '../core/session';
import type { Capabilities, DatasetInfo, FatalListener, LessonInfo, TrainerApi } from '../protocol';
import { fileMethods } from './files';
import { modelMethods } from './models';
import type { FileStore } from './model-store';
import type { Transfer } from './progress';
import { runMethods } from './runs';
import { Workspace } from './workspace';

export { importedModelName } from './models';
export { PROGRESS_MS } from './runs';

export interface TrainerDeps {
  loader: AssetLoader; // the shipped model, tokenizer and datasets: fetched in the page, read from disk in Node
  wasmPaths?: Record<string, string>; // the bundled tfjs-backend-wasm binaries (Node finds them itself)
  fetch?: typeof fetch; // for huggingface.co
  probeGpu?: () => Promise<Capabilities>; // what WebGPU and WebGL offer, before tfjs switches to them
  memory?: MemoryLimit; // what a model may take here
  transfer?: Transfer; // comlink's transfer in the worker: buffers move to the page instead of being copied
  candidates?: string[]; // the backends auto tries, in order (default: every one)
  store?: FileStore; // where imported models' files wait for a re-import (default: IndexedDB where there is one, else memory)
  /** Sets up wasm threads before the backend starts (the page's src/core/kernels/wasm/threads.ts); absent in Node: one thread. */
  wasmThreads?: (asked: number | undefined) => void;
}

const NO_GPU: Capabilities = { webgpu: 'not probed here', webgl: 'not probed here' };

export function createTrainerApi(deps: TrainerDeps) {
  const ws = new Workspace(deps.transfer ?? ((v) => v), deps.store);
  const get = deps.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  const { loader } = deps;

  return {
    async init(pref: Backend | 'auto', onFatal?: FatalListener, wasmThreads?: number) {
      deps.wasmThreads?.(wasmThreads);
      ws.session?.dispose();
      ws.session = null;
      ws.adapter = null; // its variables went with the session's
      ws.imported.clear();
      await ws.store.clear();
      const capabilities = deps.probeGpu ? await deps.probeGpu() : NO_GPU;
      ws.session = await Session.create({
        loader,
        backend: pref,
        backendOptions: { wasmPaths: deps.wasmPaths, candidates: deps.candidates },
        memory: deps.memory,
      });
      const report = ws.session.backend;
      // a GPU backend's device can be lost (driver reset, another tab's crash): the page must start a new worker
      const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ message: string; reason?: string }> } })
        .device;
      if (onFatal)
        void device?.lost?.then((info) =>
          onFatal(
            `The GPU device was lost (${info.reason ?? 'unknown reason'}${info.message ? `: ${info.message}` : ''}).`,
          ),
        );
      return { report, capabilities, state: ws.state() };
    },

    async state() {
      return ws.state();
    },

    async listDatasets() {
      const all = JSON.parse(await loader.text('datasets/index.json')) as DatasetInfo[];
      // only task datasets under datasets/ can be trained on by name
      return all.filter((d) => d.file === `datasets/${d.name}.jsonl`);
    },

    async validateData(text: string, fileName: string, config: RunConfig) {
      const s = ws.need();
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

    async lossTable() {
      return ws.need().lossTable();
    },

    async listLessons() {
      return LESSONS.map(({ measure: _m, diagnose: _d, ...info }): LessonInfo => info);
    },

    ...runMethods(ws),
    ...modelMethods(ws, get),
    ...fileMethods(ws),
  } satisfies TrainerApi;
}
