// Speed fix for tfjs-backend-wasm 4.22: its BatchMatMul reaches XNNPACK only when neither input is transposed;
// with transposeA or transposeB it runs a naive loop 9-11x slower (measured: [2048,256]ᵀ×[2048,64] took 66 ms
// vs 7 ms as transpose + matmul). Backprop through x·W asks for exactly those (dW = xᵀ·dy, dx = dy·Wᵀ), so we
// re-register the wasm kernel to transpose explicitly first. Its batched path ([n, M, K] × [n, K, N], attention)
// is slow the same way (1.8 GFLOP/s vs 15 as one 2-D matmul), so a batch runs as n 2-D matmuls on views of the
// wasm heap: tensor ids registered at each matrix's offset, no copies. Its Sum over the leading axis of a matrix
// (bias and LayerNorm-gain gradients) transposes first and is 6-20x slower than the same sum as ones[1, N] × x.
// On the single-threaded builds every other 2-D product runs in our own kernel (mm_packed in kernels.c: a 4 × 8
// register tile over packed panels of B, Bᵀ read in place), which measured faster than XNNPACK on every shape of the
// model's step (scripts/probes/matmul-gflops.ts, docs/PERFORMANCE.md); the threaded build keeps XNNPACK, whose
// pool our one-thread kernel would forgo.
// Numbers are unchanged up to float summation order; only the route differs.

import * as tf from '@tensorflow/tfjs';
import { heapMemory, isSharedMemory, kernelModule, offset, registerWasmKernels } from './kernels';
import { patchWasmCopies } from './copies';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Info = tf.TensorInfo;

let patched = false;

interface WasmBackend {
  typedArrayFromHeap(info: Info): Float32Array;
  dataIdMap: { get(id: unknown): { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: string): Info;
  disposeData(id: unknown): void;
  wasm: {
    tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
    cwrap: (...a: unknown[]) => (...a: unknown[]) => void;
    _malloc(bytes: number): number;
    HEAP32: Int32Array;
    asm?: { memory?: WebAssembly.Memory };
    wasmMemory?: WebAssembly.Memory; // the threaded build imports its (shared) memory instead of exporting it
  };
}

// wasm's BatchMatMul entry with numeric arguments only (shapes passed as heap pointers), so a batch of small matmuls
// does not copy two shape arrays onto the stack per call as the 'array' signature does
let wasmMatMul: ((...a: unknown[]) => void) | null = null;
let shapePtr = 0; // two int32[3] shapes, allocated once

/** [n, M, K] × [n, K, N] as n untransposed 2-D matmuls over heap views. */
function batchedAsViews(a: Info, b: Info, be: WasmBackend): Info {
  const [n, M, K] = a.shape;
  const N = b.shape[2];
  if (!wasmMatMul) {
    wasmMatMul = be.wasm.cwrap('BatchMatMul', null, [
      'number',
      'number',
      'number',
      'number',
      'number',
      'number',
      'number',
      'number',
      'number',
    ]);
    shapePtr = be.wasm._malloc(24);
  }
  const out = be.makeOutput([n, M, N], 'float32');
  const offA = be.dataIdMap.get(a.dataId).memoryOffset;
  const offB = be.dataIdMap.get(b.dataId).memoryOffset;
  const offO = be.dataIdMap.get(out.dataId).memoryOffset;
  // a view of the memory as it is now: on the threaded build HEAP32 can lag behind a growth
  const memory = be.wasm.asm?.memory ?? be.wasm.wasmMemory;
  (memory ? new Int32Array(memory.buffer) : be.wasm.HEAP32).set([1, M, K, 1, K, N], shapePtr >> 2);
  const t = be.wasm.tfjs;
  for (let i = 0; i < n; i++) {
    const ia = be.dataIdNextNumber++;
    const ib = be.dataIdNextNumber++;
    const io = be.dataIdNextNumber++;
    t.registerTensor(ia, M * K, offA + i * M * K * 4);
    t.registerTensor(ib, K * N, offB + i * K * N * 4);
    t.registerTensor(io, M * N, offO + i * M * N * 4);
    wasmMatMul(ia, shapePtr, 3, ib, shapePtr + 12, 3, 0, 0, io);
    t.disposeData(ia);
    t.disposeData(ib);
    t.disposeData(io);
  }
  return out;
}

/** Rows of K per packed block of B (MC_KC in kernels.c): the pack buffer is one 8-column panel of them, plus 8. */
const PACK_K = 256;

export function patchWasmMatMul() {
  if (patched) return;
  const mm = tf.getKernel('BatchMatMul', 'wasm');
  const tr = tf.getKernel('Transpose', 'wasm');
  if (!mm || !tr) return;
  // the explicit transposes: our blocked SIMD kernel where it runs (wasm's own took longer than the matmul after it)
  const transpose = (x: Info, backend: KernelArgs['backend']): Info => {
    const r = x.shape.length;
    const be = backend as unknown as WasmBackend;
    const own = x.dtype === 'float32' ? kernelModule(be) : null;
    if (own) {
      const [R, C] = x.shape.slice(-2);
      const out = be.makeOutput([...x.shape.slice(0, -2), C, R], 'float32');
      const off = (t: Info) => be.dataIdMap.get(t.dataId).memoryOffset;
      own.transpose_last2(
        off(x),
        off(out),
        x.shape.slice(0, -2).reduce((p, d) => p * d, 1),
        R,
        C,
      );
      return out;
    }
    const perm = [...Array(r - 2).keys(), r - 1, r - 2];
    return tr.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as Info;
  };
  const kernelFunc = (args: KernelArgs) => {
    const { a, b } = args.inputs as { a: Info; b: Info };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const backend = args.backend as unknown as WasmBackend;
    const r = a.shape.length;
    const M = transposeA ? a.shape[r - 1] : a.shape[r - 2];
    const K = transposeA ? a.shape[r - 2] : a.shape[r - 1];
    const N = transposeB ? b.shape[r - 2] : b.shape[r - 1];
    // skinny 2-D products (LoRA's rank r as M, N or K: x·A, d(xA)·Aᵀ, xᵀ·d(xA), (xA)ᵀ·dy) in our own kernel, which reads aᵀ in
    // place: XNNPACK tiles at least 8 columns and packs b per call (xᵀ·d(xA) [2048, 64]ᵀ × [2048, 4] took ~1.6 ms)
    const own =
      r === 2 && b.shape.length === 2 && a.dtype === 'float32' && Math.min(M, N, K) <= 8 ? kernelModule(backend) : null;
    if (own) {
      const bT = transposeB ? transpose(b, args.backend) : b;
      const out = backend.makeOutput([M, N], 'float32');
      const off = (t: Info) => backend.dataIdMap.get(t.dataId).memoryOffset;
      own.mm_skinny(off(a), off(bT), off(out), M, K, N, transposeA ? 1 : 0);
      if (bT !== b) backend.disposeData(bT.dataId);
      return out;
    }
    const heap = heapMemory(backend);
    const packed =
      r === 2 && b.shape.length === 2 && a.dtype === 'float32' && heap && !isSharedMemory(heap)
        ? kernelModule(backend)
        : null;
    if (packed) {
      const aT = transposeA ? transpose(a, args.backend) : a;
      const out = backend.makeOutput([M, N], 'float32');
      const pack = backend.makeOutput([8 * PACK_K + 8], 'float32'); // one panel of B: 8 KB, whatever N is
      const off = (t: Info) => offset(backend, t);
      packed.mm_packed(off(aT), off(b), off(out), off(pack), M, K, N, transposeB ? 1 : 0);
      backend.disposeData(pack.dataId);
      if (aT !== a) backend.disposeData(aT.dataId);
      return out;
    }
    const batched =
      r === 3 && b.shape.length === 3 && a.shape[0] === b.shape[0] && a.shape[0] > 1 && a.dtype === 'float32';
    if (!transposeA && !transposeB && !batched) return mm.kernelFunc(args);
    const aT = transposeA ? transpose(a, args.backend) : a;
    const bT = transposeB ? transpose(b, args.backend) : b;
    const out = batched
      ? batchedAsViews(aT, bT, backend)
      : mm.kernelFunc({
          ...args,
          inputs: { a: aT, b: bT },
          attrs: { ...args.attrs, transposeA: false, transposeB: false },
        });
    if (aT !== a) backend.disposeData(aT.dataId);
    if (bT !== b) backend.disposeData(bT.dataId);
    return out;
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...mm, kernelFunc });
  patchWasmSum(mm.kernelFunc);
  patchWasmCopies();
  registerWasmKernels();
  patched = true;
}

/** Sum of a float matrix over axis 0 as a matmul with a row of ones (XNNPACK) instead of transpose + reduce. */
function patchWasmSum(matMul: tf.KernelFunc) {
  const sum = tf.getKernel('Sum', 'wasm');
  if (!sum) return;
  const kernelFunc = (args: KernelArgs) => {
    const { x } = args.inputs as { x: Info };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + x.shape.length : a));
    if (x.shape.length !== 2 || x.dtype !== 'float32' || axes.length !== 1 || axes[0] !== 0)
      return sum.kernelFunc(args);
    const be = args.backend as unknown as WasmBackend;
    const [n, m] = x.shape;
    const ones = be.makeOutput([1, n], 'float32');
    be.typedArrayFromHeap(ones).fill(1);
    const out = matMul({
      inputs: { a: ones, b: x },
      backend: args.backend,
      attrs: { transposeA: false, transposeB: false },
    }) as Info;
    be.disposeData(ones.dataId);
    (out as { shape: number[] }).shape = keepDims ? [1, m] : [m];
    return out;
  };
  tf.unregisterKernel('Sum', 'wasm');
  tf.registerKernel({ ...sum, kernelFunc });
}
