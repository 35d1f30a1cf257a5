// A fix for tfjs-backend-webgpu 4.22's AddN. Its shader binds every input as a storage buffer, but the backend asks
// the adapter for WebGPU's default limits: 8 storage buffers per shader stage, output included. With 8 or more
// inputs the pipeline is invalid, nothing is written, and the "sum" reads back as whatever the output buffer held
// (zeros, or a stale value). Concat already splits its inputs by this limit; we make AddN do the same, for every
// caller (the trainer's gradient norm sums 8–52 tensors).

import * as tf from '@tensorflow/tfjs';

/**
 * Sums `items` with `sum`, never passing it more than `maxInputs` at once: a tree of partial sums. Partial sums
 * made here are released with `release`; the caller's inputs never are. Pure bookkeeping, so it is tested on cpu.
 */
export function sumInChunks<T>(items: T[], maxInputs: number, sum: (xs: T[]) => T, release: (x: T) => void): T {
  if (items.length === 0) throw new Error('sumInChunks: nothing to sum');
  const max = Math.max(2, Math.floor(maxInputs));
  const made = new Set<T>(); // partial sums made here: released once summed again
  let level = items;
  while (level.length > max) {
    const next: T[] = [];
    for (let i = 0; i < level.length; i += max) {
      const part = level.slice(i, i + max);
      if (part.length === 1) {
        next.push(part[0]);
        continue;
      }
      const s = sum(part);
      for (const x of part) if (made.delete(x)) release(x);
      made.add(s);
      next.push(s);
    }
    level = next;
  }
  if (level.length === 1 && made.has(level[0])) return level[0];
  const out = sum(level);
  for (const x of level) if (made.has(x)) release(x);
  return out;
}

interface WebGpuLike {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  disposeData(id: object): void;
}

let patched = false;

/** Re-registers webgpu's AddN to sum at most (storage-buffer limit − 1) inputs per shader. Idempotent. */
export function patchWebgpuAddN(): void {
  if (patched) return;
  const original = tf.getKernel('AddN', 'webgpu');
  if (!original) return; // backend not registered
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({
    kernelName: 'AddN',
    backendName: 'webgpu',
    kernelFunc: (args) => {
      const backend = args.backend as unknown as WebGpuLike;
      const maxInputs = backend.device.limits.maxStorageBuffersPerShaderStage - 1; // one binding is the output
      const inputs = args.inputs as unknown as tf.TensorInfo[];
      return sumInChunks(
        inputs,
        maxInputs,
        (xs) => original.kernelFunc({ ...args, inputs: xs as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo,
        (x) => backend.disposeData(x.dataId),
      );
    },
  });
  patched = true;
}
