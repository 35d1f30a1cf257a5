// Every kernel of ours, by backend, behind one call: backend.ts calls installKernels(name) when it registers a
// backend, the way PEFT dispatches per layer kind. Nothing else patches tfjs.
//   wasm/    matmul.ts (BatchMatMul and Sum re-registered: XNNPACK for transposed and batched products, our SIMD
//            kernel for skinny ones), copies.ts (column split and embedding gather as heap copies), kernels.ts (our
//            SIMD module, kernels.c inlined as kernels-wasm.ts, as tfjs kernels on the wasm heap), threads.ts and
//            paths.ts (the page's Workers only: they use Vite's ?raw and ?url imports, so Node never loads them)
//   webgpu/  addn.ts (AddN split at the device's storage-buffer limit)

import { patchWasmMatMul } from './wasm/matmul';
import { patchWebgpuAddN } from './webgpu/addn';

/** Installs our kernels for a backend that has just been registered (a no-op for backends we do not patch). */
export function installKernels(backend: string): void {
  if (backend === 'wasm') patchWasmMatMul();
  else if (backend === 'webgpu') patchWebgpuAddN();
}
