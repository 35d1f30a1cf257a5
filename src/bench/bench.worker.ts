// The browser bench's worker: the page's own engine (src/core, the same backend start-up and trainer the training
// worker uses) timed on each backend asked for. Posts one message: { rows, failures }.

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../core/backend';
import { benchRow, type BenchRow } from '../core/bench';
import type { Backend } from '../core/config';
import { wasmPaths } from '../wasm-paths';

tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false); // as in the training worker

export interface BenchRequest {
  backends: Backend[];
  sizes: string[];
  steps: number;
}

self.onmessage = async (e: MessageEvent<BenchRequest>) => {
  const { backends, sizes, steps } = e.data;
  const rows: BenchRow[] = [];
  const failures: string[] = [];
  for (const b of backends) {
    try {
      const report = await initBackend(b, { wasmPaths });
      if (report.backend !== b) {
        failures.push(`${b}: ${report.attempts.find((a) => a.backend === b)?.reason ?? 'not started'}`);
        continue;
      }
      for (const size of sizes)
        for (const method of ['lora', 'full'] as const)
          rows.push(await benchRow(size, method, steps, report.embedMode));
    } catch (err) {
      failures.push(`${b}: ${(err as Error).message}`);
    }
  }
  self.postMessage({ rows, failures });
};
