// The only place that picks a tfjs backend. Tries webgpu → webgl → wasm → cpu (or just the one asked for),
// proves each with a real computation read back from the device, and reports why the others were skipped.

import * as tf from '@tensorflow/tfjs';
import type { Backend } from './config';
import type { EmbedMode } from './model/gpt';
import { patchWasmMatMul } from './wasm-matmul';

export const BACKEND_ORDER: Backend[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface BackendAttempt {
  backend: Backend;
  ok: boolean;
  reason: string; // why it works or why it was not used, in plain words
}

export interface BackendReport {
  backend: Backend; // the one now running
  attempts: BackendAttempt[];
  embedMode: EmbedMode; // how embeddings get their gradient on this backend
  fellBack: boolean; // true when the chosen backend is not the first one tried
}

export interface BackendOptions {
  /** Browser builds pass the URLs of the bundled .wasm files (Node finds them on disk). */
  wasmPaths?: Record<string, string>;
}

async function register(b: Backend, opts: BackendOptions): Promise<string | null> {
  if (b === 'webgpu') {
    if (typeof navigator === 'undefined' || !(navigator as { gpu?: unknown }).gpu) return 'this environment has no navigator.gpu (WebGPU is not available)';
    await import('@tensorflow/tfjs-backend-webgpu');
  } else if (b === 'webgl') {
    const hasGl = typeof OffscreenCanvas !== 'undefined' || typeof document !== 'undefined';
    if (!hasGl) return 'no WebGL here (no OffscreenCanvas or document; e.g. Node)';
  } else if (b === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (opts.wasmPaths) wasm.setWasmPaths(opts.wasmPaths);
    patchWasmMatMul();
  }
  return null;
}

/** Runs a small matmul on the backend and checks the numbers that come back (WebGPU can silently read zeros). */
async function prove(): Promise<string | null> {
  const got = await tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]))).data();
  const want = [19, 22, 43, 50];
  return want.every((w, i) => Math.abs(got[i] - w) < 1e-3) ? null : `a test matmul returned [${Array.from(got)}] instead of [${want}]`;
}

export async function initBackend(pref: Backend | 'auto', opts: BackendOptions = {}): Promise<BackendReport> {
  const order = pref === 'auto' ? BACKEND_ORDER : [pref];
  const attempts: BackendAttempt[] = [];
  for (const b of order) {
    let reason: string | null;
    try {
      reason = await register(b, opts);
      if (!reason && !(b in tf.engine().registryFactory)) reason = 'the backend did not register';
      if (!reason && !(await tf.setBackend(b))) reason = 'it failed to initialise (no adapter or context)';
      if (!reason) {
        await tf.ready();
        reason = await prove();
      }
    } catch (e) {
      reason = `it threw while starting: ${(e as Error).message}`;
    }
    attempts.push({ backend: b, ok: !reason, reason: reason ?? 'initialised and passed a test computation' });
    if (!reason) return { backend: b, attempts, embedMode: embedModeFor(b), fellBack: attempts.length > 1 };
  }
  const why = attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ');
  throw new Error(`No TensorFlow.js backend could start (${why})`);
}

/** wasm lacks UnsortedSegmentSum (gather's gradient), so embeddings train through a one-hot matmul there. */
export function embedModeFor(b: string): EmbedMode {
  return b === 'wasm' ? 'onehot' : 'gather';
}
