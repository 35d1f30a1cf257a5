// Speed fix for two tfjs-backend-wasm 4.22 data-movement kernels, for the shapes the transformer uses, as typed-array
// row copies over the wasm heap: SplitV on a matrix's columns (the q|k|v split; wasm runs one generic strided Slice
// per output: 4.6 ms CPU for a [2048, 192] matrix in three, 0.8 ms here) and GatherV2 of rows (the embedding lookup:
// 6.1 ms for 2048 rows of 64). Other shapes and dtypes go to the original kernels. Numbers are unchanged: these only
// move data. (wasm's own Concat and Transpose were as fast as JS copies.)

import * as tf from '@tensorflow/tfjs';
import { backend_util, util } from '@tensorflow/tfjs';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Info = tf.TensorInfo;

interface WasmBackend {
  typedArrayFromHeap(info: Info): Float32Array | Int32Array;
  makeOutput(shape: number[], dtype: string): Info;
}

const copyable = (dtype: string) => dtype === 'float32' || dtype === 'int32';

/** Columns [off, off + w) of a row-major [rows, cols] matrix into dst [rows, w]. */
function copyColumns(
  src: Float32Array | Int32Array,
  dst: Float32Array | Int32Array,
  rows: number,
  cols: number,
  off: number,
  w: number,
) {
  for (let r = 0, s = off, d = 0; r < rows; r++, s += cols, d += w) dst.set(src.subarray(s, s + w), d);
}

function splitV(orig: tf.KernelFunc) {
  return (args: KernelArgs) => {
    const { x } = args.inputs as { x: Info };
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const ax = util.parseAxisParam(axis, x.shape)[0];
    if (x.shape.length !== 2 || ax !== 1 || !copyable(x.dtype)) return orig(args);
    const be = args.backend as unknown as WasmBackend;
    const [rows, cols] = x.shape;
    const sizes = backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax) as number[];
    const outs = sizes.map((w) => be.makeOutput([rows, w], x.dtype)); // allocate all first: growing the heap detaches views
    const src = be.typedArrayFromHeap(x);
    let off = 0;
    outs.forEach((o, i) => {
      copyColumns(src, be.typedArrayFromHeap(o), rows, cols, off, sizes[i]);
      off += sizes[i];
    });
    return outs;
  };
}

/** table [V, C] gathered at 1-D int32 indices along axis 0 → [n, C]; out-of-range indices throw, as tfjs's do. */
function gather(orig: tf.KernelFunc) {
  return (args: KernelArgs) => {
    const { x, indices } = args.inputs as { x: Info; indices: Info };
    const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
    const ax = util.parseAxisParam(axis, x.shape)[0];
    if (
      x.shape.length !== 2 ||
      ax !== 0 ||
      (batchDims ?? 0) !== 0 ||
      indices.shape.length !== 1 ||
      indices.dtype !== 'int32' ||
      !copyable(x.dtype)
    )
      return orig(args);
    const be = args.backend as unknown as WasmBackend;
    const [V, C] = x.shape;
    const n = indices.shape[0];
    const out = be.makeOutput([n, C], x.dtype);
    const src = be.typedArrayFromHeap(x);
    const ids = be.typedArrayFromHeap(indices);
    const dst = be.typedArrayFromHeap(out);
    for (let i = 0; i < n; i++) {
      const r = ids[i];
      if (r < 0 || r >= V) throw new Error(`GatherV2: index ${r} is not in [0, ${V - 1}]`);
      dst.set(src.subarray(r * C, r * C + C), i * C);
    }
    return out;
  };
}

let patched = false;

/** Re-registers wasm's SplitV and GatherV2 with the copy routes above (once; other shapes reach the originals). */
export function patchWasmCopies() {
  if (patched) return;
  for (const [name, route] of [
    ['SplitV', splitV],
    ['GatherV2', gather],
  ] as const) {
    const k = tf.getKernel(name, 'wasm');
    if (!k) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...k, kernelFunc: route(k.kernelFunc) as tf.KernelFunc });
  }
  patched = true;
}
