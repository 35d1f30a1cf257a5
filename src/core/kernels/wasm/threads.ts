// Threads for the wasm backend in the page's Workers (the training worker and the browser bench).
//
// tfjs-backend-wasm starts its pthreads from a Blob holding `factory.toString()`, the source of its Emscripten
// factory. Once Vite minifies the bundle, that source names variables renamed outside it, and every pthread dies
// with "e is not defined". The fix here: give the factory a toString that returns the package's own unminified file
// (imported as text), wrapped so that it evaluates to the factory. The backend then runs XNNPACK's matmuls and its
// other threaded kernels on a pool of `count` threads; our own kernels (kernels.ts beside this file) use their
// shared-memory build on the threaded backend's shared memory and stay on the calling thread.
//
// Threads need cross-origin isolation (SharedArrayBuffer): the page's COOP/COEP headers give it (vite.config.ts).

import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as threadedModule from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
import threadedSource from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?raw';

/** What the wasm backend will run on: its thread count, or why it stays on one thread. */
export interface WasmThreads {
  threads: number;
  reason?: string;
}

/**
 * Call before the wasm backend starts. count 1, or a context without cross-origin isolation, keeps the
 * single-threaded SIMD build.
 */
export function configureWasmThreads(count: number): WasmThreads {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  if (count <= 1 || !isolated || typeof SharedArrayBuffer === 'undefined') {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    return {
      threads: 1,
      reason: count <= 1 ? 'one thread asked for' : 'the page is not cross-origin isolated, so wasm has no threads',
    };
  }
  const factory = ((threadedModule as { default?: unknown }).default ?? threadedModule) as object;
  const source = `(() => {\n${threadedSource}\nreturn WasmBackendModuleThreadedSimd;\n})()`;
  Object.defineProperty(factory, 'toString', { value: () => source, configurable: true });
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  // tfjs caps its pool at hardwareConcurrency / 2 (it assumes two hardware threads per core), so a 2-core machine
  // would get one thread whatever is asked: let this worker's navigator report enough cores for `count`
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  if (Math.floor(cores / 2) < count && globalThis.navigator)
    Object.defineProperty(globalThis.navigator, 'hardwareConcurrency', { value: 2 * count, configurable: true });
  setThreadsCount(count);
  return { threads: count };
}
