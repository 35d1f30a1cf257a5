// Fake tfjs backends for tests: cpu's kernels under another name, one of them broken, or with a GPU device that is lost.

import * as tf from '@tensorflow/tfjs';

/** Registers `name` as a copy of the cpu backend (every kernel), the instance passed through `adapt`. */
function registerCpuCopy(
  name: string,
  skip: string | null,
  adapt: (b: tf.KernelBackend) => tf.KernelBackend = (b) => b,
) {
  tf.registerBackend(name, () => adapt(tf.findBackendFactory('cpu')!() as tf.KernelBackend));
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (k.kernelName === skip) continue;
    tf.registerKernel({ ...k, backendName: name });
  }
}

/** Registers `name`: every cpu kernel, except `kernel`, which returns zeros of the right shape. */
export function registerZeroing(name: string, kernel: string) {
  registerCpuCopy(name, kernel);
  const real = tf.getKernel(kernel, 'cpu')!;
  tf.registerKernel({
    kernelName: kernel,
    backendName: name,
    kernelFunc: (args) => {
      const out = real.kernelFunc(args) as tf.TensorInfo;
      const be = args.backend as unknown as {
        makeTensorInfo(shape: number[], dtype: string, values: Float32Array): tf.TensorInfo;
        disposeData(id: object): void;
      };
      be.disposeData(out.dataId);
      return be.makeTensorInfo(out.shape, out.dtype, new Float32Array(out.shape.reduce((a, b) => a * b, 1)));
    },
  });
}

/** Registers `name`: cpu's numbers, with a WebGPU-style `device` whose `lost` promise settles at once, as a lost GPU's does. */
export function registerLostDevice(name: string, info: { reason: string; message: string }) {
  registerCpuCopy(name, null, (b) => Object.assign(b, { device: { lost: Promise.resolve(info) } }));
}
