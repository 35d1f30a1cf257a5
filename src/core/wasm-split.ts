// Speed fix for tfjs-backend-wasm 4.22's SplitV on a matrix's columns (the transformer's q|k|v split): wasm runs it
// as one generic strided Slice per output (measured: 4.6 ms CPU to split a [2048, 192] matrix in three); here it is
// one typed-array row copy per output row over the wasm heap (0.8 ms). Other shapes and dtypes go to the original
// kernel. Numbers are unchanged: this only moves data. (wasm's own Concat and Transpose were as fast as JS copies.)

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
function copyColumns(src: Float32Array | Int32Array, dst: Float32Array | Int32Array, rows: number, cols: number, off: number, w: number) {
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

let patched = false;

/** Re-registers wasm's SplitV with the copy route above (once; other shapes fall through to the original). */
export function patchWasmSplit() {
  if (patched) return;
  const k = tf.getKernel('SplitV', 'wasm');
  if (!k) return;
  tf.unregisterKernel('SplitV', 'wasm');
  tf.registerKernel({ ...k, kernelFunc: splitV(k.kernelFunc) as tf.KernelFunc });
  patched = true;
}
