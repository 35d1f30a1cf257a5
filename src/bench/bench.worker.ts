// The browser bench's worker: the page's own engine (src/core, the same backend start-up and trainer the training
// worker uses) timed on each backend asked for. Posts one message: { rows, failures }.

import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../core/backend';
import { benchRow, type BenchRow } from '../core/bench';
import type { Backend } from '../core/config';
import { wasmPaths } from '../core/kernels/wasm/paths';
import { configureWasmThreads } from '../core/kernels/wasm/threads';

export interface BenchRequest {
  backends: Backend[];
  sizes: string[];
  steps: number;
  threads: number; // wasm threads (one page load per count: the backend starts once per worker)
}

self.onmessage = async (e: MessageEvent<BenchRequest>) => {
  const { backends, sizes, steps, threads } = e.data;
  const rows: BenchRow[] = [];
  const failures: string[] = [];
  const asked = configureWasmThreads(threads);
  if (asked.threads < threads) failures.push(`wasm: ${threads} threads asked for, 1 used: ${asked.reason}`);
  for (const b of backends) {
    try {
      const report = await initBackend(b, { wasmPaths });
      if (report.backend !== b) {
        failures.push(`${b}: ${report.attempts.find((a) => a.backend === b)?.reason ?? 'not started'}`);
        continue;
      }
      const n = report.wasmThreads ?? 1;
      const label = b === 'wasm' ? `wasm, ${n} thread${n === 1 ? '' : 's'}` : b;
      for (const size of sizes)
        for (const method of ['lora', 'full'] as const)
          rows.push({ ...(await benchRow(size, method, steps, report.embedMode)), backend: label });
    } catch (err) {
      failures.push(`${b}: ${(err as Error).message}`);
    }
  }
  self.postMessage({ rows, failures });
};
