// Our wasm module (kernels.c beside this file) on tfjs-backend-wasm's heap, as tfjs kernels for model/fused.ts:
// causal attention ('CausalAttention', 'CausalAttentionGrad'), LayerNorm ('FusedLayerNorm', 'FusedLayerNormGrad'),
// GELU ('FusedGelu', 'FusedGeluGrad') and softmax cross-entropy ('SoftmaxNll', 'SoftmaxNllGrad'), forward and
// backward in one pass each where tfjs ops took 5-12; the
// skinny matmul matmul.ts routes LoRA's rank-r products to. Attention: Through tfjs ops, attention was ~7 batched matmuls per layer (forward, backward and
// the recomputed softmax), each 64 small XNNPACK calls plus [B·nh, T, T] transposes and elementwise passes; the
// kernel does each (batch, head) in one pass over the rows, computes only the causal half and keeps no [T, T] tensor.
// The module is inlined (base64) and instantiated on the backend's own WebAssembly.Memory, so tensors are passed as
// heap offsets with no copies: the plain build on the single-threaded backends' memory, the shared-memory build
// on the threaded backend's (the page, threads.ts beside this file). Where neither starts, fused.ts uses tfjs ops.

import * as tf from '@tensorflow/tfjs';
import { KERNELS_WASM, KERNELS_WASM_SHARED } from './kernels-wasm';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Info = tf.TensorInfo;

export interface WasmBackend {
  dataIdMap: { get(id: unknown): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): Info;
  disposeData(id: unknown): void;
  // the single-threaded builds export their memory; the threaded build imports a shared one, kept as wasmMemory
  wasm: { asm?: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory };
}

type Ptr = number;
export interface KernelExports {
  attn_fwd(
    q: Ptr,
    k: Ptr,
    v: Ptr,
    o: Ptr,
    stats: Ptr,
    scratch: Ptr,
    B: number,
    T: number,
    C: number,
    nh: number,
    nkv: number,
    scale: number,
  ): void;
  attn_bwd(
    q: Ptr,
    k: Ptr,
    v: Ptr,
    dout: Ptr,
    stats: Ptr,
    dq: Ptr,
    dk: Ptr,
    dv: Ptr,
    scratch: Ptr,
    B: number,
    T: number,
    C: number,
    nh: number,
    nkv: number,
    scale: number,
  ): void;
  mm_skinny(a: Ptr, b: Ptr, c: Ptr, M: number, K: number, N: number, transA: number): void;
  mm_packed(a: Ptr, b: Ptr, c: Ptr, pack: Ptr, M: number, K: number, N: number, transB: number): void;
  ln_fwd(x: Ptr, g: Ptr, b: Ptr, y: Ptr, stats: Ptr, N: number, C: number, eps: number): void;
  ln_bwd(dy: Ptr, x: Ptr, g: Ptr, stats: Ptr, dx: Ptr, dg: Ptr, db: Ptr, N: number, C: number): void;
  gelu_fwd(x: Ptr, y: Ptr, n: number): void;
  gelu_bwd(x: Ptr, dy: Ptr, dx: Ptr, n: number): void;
  transpose_last2(src: Ptr, dst: Ptr, n: number, R: number, C: number): void;
  ce_fwd(lg: Ptr, t: Ptr, probs: Ptr, nll: Ptr, N: number, V: number): void;
  ce_bwd(probs: Ptr, t: Ptr, coef: Ptr, dlg: Ptr, N: number, V: number): void;
}

let memoryOf: WebAssembly.Memory | null = null;
let exportsOf: KernelExports | null = null;

/** Whether a memory is shared (the threaded build's): its buffer is a SharedArrayBuffer. */
export function isSharedMemory(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/** The backend's WebAssembly.Memory: exported by the single-threaded builds, imported (shared) by the threaded one. */
export const heapMemory = (be: WasmBackend) => be.wasm?.asm?.memory ?? be.wasm?.wasmMemory;

/** The kernel module instantiated on this backend's memory, or null where that is impossible. */
export function kernelModule(be: WasmBackend): KernelExports | null {
  const memory = heapMemory(be);
  if (!(memory instanceof WebAssembly.Memory)) return null;
  if (memory !== memoryOf) {
    memoryOf = memory;
    exportsOf = instantiate(memory);
  }
  return exportsOf;
}

/** Our module on a memory: the build that imports that kind of memory, or null if it cannot start there. */
export function instantiate(memory: WebAssembly.Memory): KernelExports | null {
  try {
    const b64 = isSharedMemory(memory) ? KERNELS_WASM_SHARED : KERNELS_WASM;
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
      .exports as unknown as KernelExports;
  } catch {
    return null;
  }
}

/** Whether the current backend runs our kernels: wasm, with the module started on its memory. */
export function wasmKernels(): boolean {
  return registered && tf.getBackend() === 'wasm' && kernelModule(tf.backend() as unknown as WasmBackend) !== null;
}

/** A tensor's byte offset on the wasm heap. */
export const offset = (be: WasmBackend, t: Info) => be.dataIdMap.get(t.dataId).memoryOffset;

/**
 * q [B·T, C], k, v [B·T, nKv·hd] (grouped-query attention where nKv < nh: each k/v head read by nh/nKv query heads)
 * → [y [B·T, C], stats [B·nh·T·2]] (per row: max score and 1/Σexp, for the backward pass).
 */
function forward(args: KernelArgs): Info[] {
  const { q, k, v } = args.inputs as { q: Info; k: Info; v: Info };
  const { T, nh } = args.attrs as { T: number; nh: number };
  const be = args.backend as unknown as WasmBackend;
  const [N, C] = q.shape;
  const hd = C / nh;
  const nKv = k.shape[1] / hd;
  const Tp = (T + 3) & ~3;
  const y = be.makeOutput([N, C], 'float32');
  const stats = be.makeOutput([(N / T) * nh * T * 2], 'float32');
  const scratch = be.makeOutput([hd * Tp + Tp], 'float32');
  kernelModule(be)!.attn_fwd(
    offset(be, q),
    offset(be, k),
    offset(be, v),
    offset(be, y),
    offset(be, stats),
    offset(be, scratch),
    N / T,
    T,
    C,
    nh,
    nKv,
    1 / Math.sqrt(hd),
  );
  be.disposeData(scratch.dataId);
  return [y, stats];
}

/** q, dy [B·T, C], k, v [B·T, nKv·hd] and the forward's stats → [dq [B·T, C], dk, dv [B·T, nKv·hd]]. */
function backward(args: KernelArgs): Info[] {
  const { q, k, v, dy, stats } = args.inputs as { q: Info; k: Info; v: Info; dy: Info; stats: Info };
  const { T, nh } = args.attrs as { T: number; nh: number };
  const be = args.backend as unknown as WasmBackend;
  const [N, C] = q.shape;
  const hd = C / nh;
  const nKv = k.shape[1] / hd;
  const Tp = (T + 3) & ~3;
  const dq = be.makeOutput([N, C], 'float32');
  const [dk, dv] = [0, 1].map(() => be.makeOutput(k.shape, 'float32'));
  const scratch = be.makeOutput([2 * hd * Tp + 2 * Tp], 'float32');
  kernelModule(be)!.attn_bwd(
    offset(be, q),
    offset(be, k),
    offset(be, v),
    offset(be, dy),
    offset(be, stats),
    offset(be, dq),
    offset(be, dk),
    offset(be, dv),
    offset(be, scratch),
    N / T,
    T,
    C,
    nh,
    nKv,
    1 / Math.sqrt(hd),
  );
  be.disposeData(scratch.dataId);
  return [dq, dk, dv];
}

/** x [N, C], g, b [C] → [y [N, C], stats [N·2]] (per row: mean and 1/σ). */
function layerNorm(args: KernelArgs): Info[] {
  const { x, g, b } = args.inputs as { x: Info; g: Info; b: Info };
  const be = args.backend as unknown as WasmBackend;
  const [N, C] = x.shape;
  const y = be.makeOutput([N, C], 'float32');
  const stats = be.makeOutput([N * 2], 'float32');
  kernelModule(be)!.ln_fwd(
    offset(be, x),
    offset(be, g),
    offset(be, b),
    offset(be, y),
    offset(be, stats),
    N,
    C,
    (args.attrs as { eps: number }).eps,
  );
  return [y, stats];
}

/** dy, x [N, C], g [C], stats → [dx [N, C], dg [C], db [C]]. */
function layerNormGrad(args: KernelArgs): Info[] {
  const { dy, x, g, stats } = args.inputs as { dy: Info; x: Info; g: Info; stats: Info };
  const be = args.backend as unknown as WasmBackend;
  const [N, C] = x.shape;
  const [dx, dg, db] = [[N, C], [C], [C]].map((s) => be.makeOutput(s, 'float32'));
  kernelModule(be)!.ln_bwd(
    offset(be, dy),
    offset(be, x),
    offset(be, g),
    offset(be, stats),
    offset(be, dx),
    offset(be, dg),
    offset(be, db),
    N,
    C,
  );
  return [dx, dg, db];
}

function gelu(args: KernelArgs): Info {
  const { x } = args.inputs as { x: Info };
  const be = args.backend as unknown as WasmBackend;
  const y = be.makeOutput(x.shape, 'float32');
  kernelModule(be)!.gelu_fwd(offset(be, x), offset(be, y), tf.util.sizeFromShape(x.shape));
  return y;
}

function geluGrad(args: KernelArgs): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const be = args.backend as unknown as WasmBackend;
  const dx = be.makeOutput(x.shape, 'float32');
  kernelModule(be)!.gelu_bwd(offset(be, x), offset(be, dy), offset(be, dx), tf.util.sizeFromShape(x.shape));
  return dx;
}

/** logits [N, V], targets [N] int32 (each in [0, V)) → [probs [N, V], nll [N]]. */
function softmaxNll(args: KernelArgs): Info[] {
  const { logits, targets } = args.inputs as { logits: Info; targets: Info };
  const be = args.backend as unknown as WasmBackend;
  const [N, V] = logits.shape;
  const probs = be.makeOutput([N, V], 'float32');
  const nll = be.makeOutput([N], 'float32');
  kernelModule(be)!.ce_fwd(offset(be, logits), offset(be, targets), offset(be, probs), offset(be, nll), N, V);
  return [probs, nll];
}

/** probs [N, V], targets [N], coef [N] → (probs − onehot(targets))·coef [N, V]. */
function softmaxNllGrad(args: KernelArgs): Info {
  const { probs, targets, coef } = args.inputs as { probs: Info; targets: Info; coef: Info };
  const be = args.backend as unknown as WasmBackend;
  const [N, V] = probs.shape;
  const dlg = be.makeOutput([N, V], 'float32');
  kernelModule(be)!.ce_bwd(offset(be, probs), offset(be, targets), offset(be, coef), offset(be, dlg), N, V);
  return dlg;
}

let registered = false;

export function registerWasmKernels() {
  if (registered) return;
  const kernels: [string, unknown][] = [
    ['CausalAttention', forward],
    ['CausalAttentionGrad', backward],
    ['FusedLayerNorm', layerNorm],
    ['FusedLayerNormGrad', layerNormGrad],
    ['FusedGelu', gelu],
    ['FusedGeluGrad', geluGrad],
    ['SoftmaxNll', softmaxNll],
    ['SoftmaxNllGrad', softmaxNllGrad],
  ];
  for (const [kernelName, f] of kernels)
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: f as tf.KernelFunc });
  registered = true;
}
