// Vite builds the page and its training worker. COOP/COEP give cross-origin isolation (wasm threads);
// the CSP meta tag in index.html forbids remote scripts. vite-plugin-pwa (workbox) writes a service worker that
// precaches the whole build (page, worker, wasm, the shipped model, datasets and corpus), so the page loads and
// trains offline after one visit, plus the web manifest that makes it installable.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';

const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [
    svelte(),
    VitePWA({
      registerType: 'autoUpdate', // a new release's worker takes over at once (skipWaiting + clientsClaim)
      injectRegister: 'script', // registerSW.js as a file: the CSP allows no inline script
      includeManifestIcons: false, // the glob below already precaches public/icons
      manifest: {
        name: 'LoRA Playground',
        short_name: 'LoRA',
        description:
          'Fine-tune a small transformer with LoRA in the browser and watch fine-tuning pitfalls happen live.',
        start_url: '.',
        scope: '.',
        display: 'standalone',
        background_color: '#f8fafc',
        theme_color: '#1d4ed8',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        // everything the page fetches: public/ (models, datasets, corpus, icons) is copied into the build
        globPatterns: ['**/*.{html,js,css,wasm,json,jsonl,txt,md,safetensors,png}'],
        maximumFileSizeToCacheInBytes: 16 * 1024 * 1024, // the worker bundle is ~2 MB, over workbox's default
        cleanupOutdatedCaches: true, // a release drops the caches an older workbox made; revisions replace changed files
        skipWaiting: true,
        clientsClaim: true, // the first visit's page is controlled without a reload, so it works offline from then on
        navigateFallback: 'index.html',
      },
    }),
  ],
  worker: { format: 'es' },
  optimizeDeps: {
    include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', 'comlink'],
  },
  server: { headers: isolation },
  preview: { headers: isolation, port: 4173 },
  // bench.html: the browser bench (npm run bench -- --browser), built beside the page
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rollupOptions: { input: { index: 'index.html', bench: 'bench.html' } },
  },
});
