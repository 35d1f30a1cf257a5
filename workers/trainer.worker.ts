// The training worker: builds the TrainerApi (src/api/trainer-api.ts) from the browser's parts and exposes it with
// comlink. All tfjs work happens here, so the page's main thread only draws.

import * as Comlink from 'comlink';
import '@tensorflow/tfjs-backend-wasm';
import { probeGpu } from '../src/api/gpu-probe';
import { createTrainerApi } from '../src/api/trainer-api';
import { fetchLoader } from '../src/core/assets';
import { tabMemory } from '../src/ui/device';
import { wasmPaths } from '../src/core/kernels/wasm/paths';
import { defaultWasmThreads } from '../src/core/rules';
import { configureWasmThreads } from '../src/core/kernels/wasm/threads';

// wasm threads: the threaded build when the page is cross-origin isolated, on as many threads as the page asks
// for (the page always says; default: half the logical cores); configured once, before the backend first starts
let threadsSet = false;
const wasmThreads = (asked: number | undefined) => {
  if (threadsSet) return;
  threadsSet = true;
  configureWasmThreads(asked ?? defaultWasmThreads(navigator.hardwareConcurrency));
};

const api = createTrainerApi({
  loader: fetchLoader(import.meta.env.BASE_URL),
  wasmPaths,
  fetch: (...args) => fetch(...args),
  probeGpu,
  memory: tabMemory(),
  transfer: Comlink.transfer,
  wasmThreads,
});

Comlink.expose(api);
