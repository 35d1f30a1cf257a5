// The only place that picks a tfjs backend. Each candidate (webgpu → webgl → wasm → cpu, or the one asked for) must
// 1) register and initialise, 2) return the right numbers for a small matmul, and 3) prove training: one forward and
// backward pass of a model of the real size (the shipped architecture unless told otherwise) on a fixed batch, whose
// loss and gradient norm must match a reference backend's (wasm, else cpu). Of those that pass, "auto" takes the
// fastest by the timed proof step. Every attempt says in plain words why it is used or not.

import * as tf from '@tensorflow/tfjs';
import { DEFAULT_ARCH, type Backend, type ModelArch } from './config';
import { initialValues, logits, paramShapes, maskedCrossEntropy, type EmbedMode, type Params } from './model/gpt';
import { Rng } from './rng';
import { lossAndGradNorm } from './train/stats';
import { installKernels } from './kernels';
import { wasmKernels } from './kernels/wasm/kernels';

export const BACKEND_ORDER: Backend[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** How far a backend's proof may be from the reference's: relative error of the loss and of the gradient norm. */
export const PROOF_TOLERANCE = { loss: 1e-3, gradNorm: 1e-2 };

export interface BackendAttempt {
  backend: Backend;
  ok: boolean;
  reason: string; // why it works or why it was not used, in plain words
  msPerStep?: number; // the timed proof step (forward + backward, batch 2 × blockSize), when it ran
}

export interface BackendReport {
  backend: Backend; // the one now running
  attempts: BackendAttempt[];
  embedMode: EmbedMode; // how embeddings get their gradient on this backend
  fellBack: boolean; // true when a backend asked for (or earlier in auto's order) was refused
  wasmThreads?: number; // on wasm: the threads its matmuls run on (1 unless the page started the threaded build)
  wasmKernels?: boolean; // on wasm: whether our own kernels (kernels/wasm/kernels.ts) started on its memory
}

export interface BackendOptions {
  /** Browser builds pass the URLs of the bundled .wasm files (Node finds them on disk). */
  wasmPaths?: Record<string, string>;
  /** The shape the training proof runs at: the model about to be loaded. Default: the shipped model's. */
  proofArch?: ModelArch;
  /** The backends auto tries, in order (default BACKEND_ORDER). Any but wasm and cpu is proven against the reference. */
  candidates?: string[];
}

export interface ProofResult {
  loss: number;
  gradNorm: number;
  ms: number; // wall time of one timed forward + backward pass, read-back included
}

async function register(b: string, opts: BackendOptions): Promise<string | null> {
  if (b === 'webgpu') {
    if (typeof navigator === 'undefined' || !(navigator as { gpu?: unknown }).gpu)
      return 'this environment has no navigator.gpu (WebGPU is not available)';
    await import('@tensorflow/tfjs-backend-webgpu');
    installKernels('webgpu');
  } else if (b === 'webgl') {
    const hasGl = typeof OffscreenCanvas !== 'undefined' || typeof document !== 'undefined';
    if (!hasGl) return 'no WebGL here (no OffscreenCanvas or document; e.g. Node)';
  } else if (b === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (opts.wasmPaths) wasm.setWasmPaths(opts.wasmPaths);
    installKernels('wasm');
  }
  return null;
}

/** Runs a small matmul on the backend and checks the numbers that come back (WebGPU can silently read zeros). */
async function proveMatmul(): Promise<string | null> {
  const got = await tf
    .tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])))
    .data();
  const want = [19, 22, 43, 50];
  return want.every((w, i) => Math.abs(got[i] - w) < 1e-3)
    ? null
    : `a test matmul returned [${Array.from(got)}] instead of [${want}]`;
}

/** Makes `name` the current backend; a reason when it cannot be. */
async function activate(name: string, opts: BackendOptions): Promise<string | null> {
  try {
    const reason = await register(name, opts);
    if (reason) return reason;
    if (!(name in tf.engine().registryFactory)) return 'the backend did not register';
    if (!(await tf.setBackend(name))) return 'it failed to initialise (no adapter or context)';
    await tf.ready();
    return null;
  } catch (e) {
    return `it threw while starting: ${(e as Error).message}`;
  }
}

/** wasm lacks UnsortedSegmentSum (gather's gradient), so embeddings train through a one-hot matmul there. */
export function embedModeFor(b: string): EmbedMode {
  return b === 'wasm' ? 'onehot' : 'gather';
}

/**
 * One training step's worth of math on the current backend, without the update: a seeded random model of `arch`,
 * a fixed batch of 2 × blockSize tokens, loss and gradient norm over every weight, read back the trainer's way.
 * Deterministic, so two backends can be compared. `timed` runs it once untimed first (shader compilation).
 */
export async function proveTraining(arch: ModelArch, timed = false): Promise<ProofResult> {
  const values = initialValues(arch, 20261201);
  const rng = new Rng(7);
  const B = 2;
  const T = arch.blockSize;
  const ids = Int32Array.from({ length: B * (T + 1) }, () => Math.floor(rng.next() * arch.vocabSize));
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      x[b * T + t] = ids[b * (T + 1) + t];
      y[b * T + t] = ids[b * (T + 1) + t + 1];
    }
  const embedMode = embedModeFor(tf.getBackend());
  const once = async (): Promise<ProofResult> => {
    const t0 = performance.now();
    const shapes = paramShapes(arch);
    const vars = shapes.map(([name, shape]) =>
      tf.tidy(() => tf.variable(tf.tensor(values.get(name)!, shape), true, `proof${proofId}/${name}`)),
    );
    proofId++;
    const params: Params = Object.fromEntries(shapes.map(([name], i) => [name, vars[i]]));
    const xs = tf.tensor2d(x, [B, T], 'int32');
    const ys = tf.tensor1d(y, 'int32');
    const ws = tf.ones([B * T]) as tf.Tensor1D;
    const { value, grads } = tf.variableGrads(
      () => maskedCrossEntropy(logits(params, arch, xs, { embedMode, training: true }), ys, ws),
      vars,
    );
    const stats = lossAndGradNorm(
      value,
      vars.map((v) => grads[v.name]),
    );
    const [loss, gradNorm] = await stats.data();
    tf.dispose([stats, value, ...Object.values(grads), xs, ys, ws, ...vars]);
    return { loss, gradNorm, ms: performance.now() - t0 };
  };
  if (timed) await once();
  return once();
}
let proofId = 0;

/** Why `got` does not match the reference, or null when it does. */
export function proofMismatch(got: ProofResult, ref: ProofResult): string | null {
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
  const read = `loss ${got.loss.toPrecision(5)}, gradient norm ${got.gradNorm.toPrecision(4)}; the reference gives ${ref.loss.toPrecision(5)} and ${ref.gradNorm.toPrecision(4)}`;
  if (!Number.isFinite(got.loss) || !Number.isFinite(got.gradNorm))
    return `a training step read back non-finite numbers (${read})`;
  if (got.loss === 0 || got.gradNorm === 0) return `a training step read back zeros (${read})`;
  if (rel(got.loss, ref.loss) > PROOF_TOLERANCE.loss || rel(got.gradNorm, ref.gradNorm) > PROOF_TOLERANCE.gradNorm)
    return `a training step gave wrong numbers (${read})`;
  return null;
}

const REFERENCE_BACKENDS = new Set(['wasm', 'cpu']);

/** The started wasm backend's thread pool size (tfjs-backend-wasm's getThreadsCount), 1 when it cannot say. */
async function wasmThreadCount(): Promise<number> {
  try {
    return Math.max(1, (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount());
  } catch {
    return 1;
  }
}

export async function initBackend(pref: Backend | 'auto', opts: BackendOptions = {}): Promise<BackendReport> {
  const arch = opts.proofArch ?? DEFAULT_ARCH;
  const attempts: BackendAttempt[] = [];
  // The reference for the GPU backends' proof: wasm where it starts (the unit tests check it against cpu), else cpu.
  let reference: ProofResult | null = null;
  const referenceResult = async (): Promise<ProofResult> => {
    for (const r of ['wasm', 'cpu']) {
      if (reference) break;
      if ((await activate(r, opts)) === null && (await proveMatmul()) === null) reference = await proveTraining(arch);
    }
    if (!reference) throw new Error('neither wasm nor cpu could run the reference step');
    return reference;
  };
  const all = (opts.candidates ?? BACKEND_ORDER) as Backend[];
  const order = pref === 'auto' ? all : [pref, ...all.filter((b) => b !== pref)];
  for (const b of order) {
    let ms: number | undefined;
    let reason = await activate(b, opts);
    if (!reason) reason = await proveMatmul();
    if (!reason && !REFERENCE_BACKENDS.has(b)) {
      try {
        const ref = await referenceResult();
        reason = (await activate(b, opts)) ?? null;
        const got = reason ? null : await proveTraining(arch, true);
        if (got) [ms, reason] = [got.ms, proofMismatch(got, ref)];
      } catch (e) {
        reason = `a training step threw: ${(e as Error).message}`;
      }
    } else if (!reason && pref === 'auto' && attempts.some((a) => a.ok)) {
      ms = (await proveTraining(arch, true)).ms; // a GPU backend passed: time this one against it
    }
    const timing = ms !== undefined ? ` (${ms.toFixed(0)} ms for a training step of batch 2 × ${arch.blockSize})` : '';
    attempts.push({
      backend: b,
      ok: !reason,
      reason: reason ? reason + timing : `passed its checks${timing}`,
      msPerStep: ms,
    });
    // an explicit choice stops at the first that passes; auto stops once a CPU backend passed (cpu is never faster than wasm)
    if (!reason && (pref !== 'auto' || REFERENCE_BACKENDS.has(b))) break;
  }
  const passed = attempts.filter((a) => a.ok);
  if (passed.length === 0) {
    const why = attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ');
    throw new Error(`No TensorFlow.js backend could start (${why})`);
  }
  const chosen = passed.reduce((best, a) => ((a.msPerStep ?? Infinity) < (best.msPerStep ?? Infinity) ? a : best));
  for (const a of passed) if (a !== chosen) a.reason += `; not used: ${chosen.backend} was faster`;
  if (tf.getBackend() !== chosen.backend) await tf.setBackend(chosen.backend);
  const fellBack = attempts[0] !== chosen && !attempts[0].ok;
  const report: BackendReport = {
    backend: chosen.backend,
    attempts,
    embedMode: embedModeFor(chosen.backend),
    fellBack,
  };
  if (chosen.backend === 'wasm') {
    report.wasmThreads = await wasmThreadCount();
    report.wasmKernels = wasmKernels();
  }
  return report;
}
