// How far wasm's heap grows past a step's tensor peak (the allocator never returns memory and fragments): the
// measurement behind WASM_HEAP_FACTOR in src/core/memory-estimate.ts. Run: npx tsx scripts/probes/wasm-heap.ts
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/core/backend';
import { benchRow } from '../../src/core/bench';
const rep = await initBackend('wasm');
const heap = () => ((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length / 1e6).toFixed(0);
for (const [size, method] of [
  ['ref-0.8M', 'full'],
  ['llama-135M', 'lora'],
] as const) {
  const r = await benchRow(size, method, 5, rep.embedMode);
  console.log(size, method, 'peak MB', (r.peakBytes / 1e6).toFixed(0), 'wasm heap MB', heap());
}
