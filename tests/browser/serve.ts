// Builds the page once and serves it with vite preview (COOP/COEP headers from vite.config.ts) on a free
// localhost port. Used by the browser tests' global setup, the offline test and the screenshot script.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { build, preview } from 'vite';

const OUT_DIR = path.resolve('node_modules/.cache/browser-test-dist');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface Served {
  baseUrl: string;
  close(): Promise<void>;
}

export async function buildAndServe(): Promise<Served> {
  await build({ logLevel: 'error', build: { outDir: OUT_DIR, emptyOutDir: true } });
  if (!fs.existsSync(path.join(OUT_DIR, 'index.html')))
    throw new Error(`vite build produced no index.html in ${OUT_DIR}`);
  return serveBuilt();
}

/** Another server for a built page (a test that takes its server away, or swaps in another release on the same port). */
export async function serveBuilt(outDir = OUT_DIR, port?: number): Promise<Served> {
  port ??= await freePort();
  const server = await preview({
    logLevel: 'error',
    build: { outDir },
    preview: { port, strictPort: true, host: '127.0.0.1', open: false },
  });
  return { baseUrl: `http://localhost:${port}/`, close: () => server.close() };
}
