// Vite builds the page and its training worker. COOP/COEP give cross-origin isolation (wasm threads);
// the CSP meta tag in index.html forbids remote scripts.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [svelte()],
  worker: { format: 'es' },
  optimizeDeps: {
    include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', 'comlink'],
  },
  server: { headers: isolation },
  preview: { headers: isolation, port: 4173 },
  // bench.html: the browser bench (npm run bench -- --browser), built beside the page
  build: { target: 'es2022', chunkSizeWarningLimit: 4096, rollupOptions: { input: { main: 'index.html', bench: 'bench.html' } } },
});
