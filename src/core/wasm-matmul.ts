// Speed fix for tfjs-backend-wasm 4.22: its BatchMatMul reaches XNNPACK only when neither input is transposed;
// with transposeA or transposeB it runs a naive loop 9-11x slower (measured: [2048,256]ᵀ×[2048,64] took 66 ms
// vs 7 ms as transpose + matmul). Backprop through x·W asks for exactly those (dW = xᵀ·dy, dx = dy·Wᵀ), so we
// re-register the wasm kernel to transpose explicitly first. Numbers are unchanged; only the route differs.

import * as tf from '@tensorflow/tfjs';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Info = tf.TensorInfo;

let patched = false;

export function patchWasmMatMul() {
  if (patched) return;
  const mm = tf.getKernel('BatchMatMul', 'wasm');
  const tr = tf.getKernel('Transpose', 'wasm');
  if (!mm || !tr) return;
  const transpose = (x: Info, backend: KernelArgs['backend']): Info => {
    const r = x.shape.length;
    const perm = [...Array(r - 2).keys(), r - 1, r - 2];
    return tr.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as Info;
  };
  const kernelFunc = (args: KernelArgs) => {
    const { a, b } = args.inputs as { a: Info; b: Info };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return mm.kernelFunc(args);
    const aT = transposeA ? transpose(a, args.backend) : a;
    const bT = transposeB ? transpose(b, args.backend) : b;
    const out = mm.kernelFunc({ ...args, inputs: { a: aT, b: bT }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    const backend = args.backend as { disposeData(id: unknown): void };
    if (aT !== a) backend.disposeData(aT.dataId);
    if (bT !== b) backend.disposeData(bT.dataId);
    return out;
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...mm, kernelFunc });
  patched = true;
}
