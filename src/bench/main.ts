// bench.html: runs the browser bench in a Worker (as the page trains) and leaves the result in window.__bench for
// `npm run bench -- --browser`. Settings come from the query: ?backends=webgpu,webgl,wasm&sizes=tiny-world&steps=6&threads=1

import type { BenchRequest } from './bench.worker';

const q = new URLSearchParams(location.search);
const request: BenchRequest = {
  backends: (q.get('backends') ?? 'webgpu,webgl,wasm').split(',') as BenchRequest['backends'],
  sizes: (q.get('sizes') ?? 'tiny-world,ref-0.8M').split(','),
  steps: Number(q.get('steps') ?? 6),
  threads: Number(q.get('threads') ?? 1),
};
const out = document.getElementById('out')!;
out.textContent = `running ${JSON.stringify(request)}…`;
const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module', name: 'bench' });
worker.onmessage = (e) => {
  (window as unknown as { __bench: unknown }).__bench = e.data;
  out.textContent = JSON.stringify(e.data, null, 2);
};
worker.onerror = (e) => {
  (window as unknown as { __bench: unknown }).__bench = { rows: [], failures: [`worker: ${e.message}`] };
};
worker.postMessage(request);
