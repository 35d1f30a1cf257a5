// What the browser offers for the GPU backends, found without switching tfjs to them, so the backend picker can
// say why one is unavailable. The worker hands this to createTrainerApi; elsewhere (Node) it finds neither.

import type { Capabilities } from '../protocol';

interface GpuAdapterLike {
  info?: Record<string, string>;
  requestAdapterInfo?(): Promise<Record<string, string>>;
}

export async function probeGpu(): Promise<Capabilities> {
  const caps: Capabilities = { webgpu: null, webgl: null };
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } } | undefined)?.gpu;
  if (!gpu)
    caps.webgpu =
      'this browser offers no WebGPU (navigator.gpu is missing; it needs a recent Chromium-based browser and a secure page)';
  else {
    try {
      const adapter = await gpu.requestAdapter();
      if (!adapter) caps.webgpu = 'WebGPU is present but found no graphics adapter (blocked GPU, or no driver)';
      else {
        const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
        caps.adapter = {
          vendor: info.vendor ?? '',
          architecture: info.architecture ?? '',
          device: info.device ?? '',
          description: info.description ?? '',
        };
      }
    } catch (e) {
      caps.webgpu = `asking for a WebGPU adapter failed: ${(e as Error).message}`;
    }
  }
  try {
    const gl = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1).getContext('webgl2') : null;
    if (!gl) caps.webgl = 'no WebGL2 context could be created in a worker (OffscreenCanvas missing or GPU blocked)';
  } catch (e) {
    caps.webgl = `creating a WebGL2 context failed: ${(e as Error).message}`;
  }
  return caps;
}
