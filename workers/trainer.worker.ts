// The training worker: builds the TrainerApi (src/api/trainer-api.ts) from the browser's parts and exposes it with
// comlink. All tfjs work happens here, so the page's main thread only draws.

import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { probeGpu } from '../src/api/gpu-probe';
import { createTrainerApi } from '../src/api/trainer-api';
import { fetchLoader } from '../src/core/assets';
import { tabMemory } from '../src/ui/device';
import { wasmPaths } from '../src/wasm-paths';

// The threaded wasm build starts its pthreads from a Blob holding its factory's source text, which a bundler's
// minifier breaks ("e is not defined"); one thread is also the right share of this 2-core class of machine.
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);

const api = createTrainerApi({
  loader: fetchLoader(import.meta.env.BASE_URL),
  wasmPaths,
  fetch: (...args) => fetch(...args),
  probeGpu,
  memory: tabMemory(),
  transfer: Comlink.transfer,
});

Comlink.expose(api);
