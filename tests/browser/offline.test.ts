// Offline and installable: after one visit the service worker has precached the page, the worker, the wasm files,
// the shipped model, the datasets and the corpus; with the server gone and the network off, a reload still loads
// the page (cross-origin isolated, from the cached headers) and trains to the end. The manifest makes it installable.
// A new release on the same address replaces the old one's files in the cache.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launch, launchPersistent, watchErrors } from './chromium';
import {
  cspViolations,
  HAS_BUILTIN,
  hashOf,
  instrument,
  lossPoints,
  TINY_RANDOM,
  TINY_RUN,
  waitForEnd,
  waitForEngine,
  waitForModel,
} from './page';
import { serveBuilt, type Served } from './serve';

const MODEL = HAS_BUILTIN ? 'tiny-world' : 'random';

describe('offline after one visit', () => {
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  let served: Served | null;
  let errors: string[];

  beforeAll(async () => {
    served = await serveBuilt(); // this file's own server, so the test can take it away
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lora-offline-'));
    context = await launchPersistent(profile); // an incognito context is never installable
    page = await context.newPage();
    await instrument(page);
    errors = watchErrors(page);
  });
  afterAll(async () => {
    await context?.close();
    await served?.close();
    fs.rmSync(profile, { recursive: true, force: true });
  });

  test('the first visit installs a service worker that precaches everything the page fetches', async () => {
    await page.goto(
      served!.baseUrl +
        hashOf({ ...(HAS_BUILTIN ? {} : TINY_RANDOM), 'model.backend': 'wasm', ...TINY_RUN, 'eval.general': true }),
    );
    await waitForEngine(page, 'wasm');
    await waitForModel(page, MODEL);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 60_000 });
    const cached = await page.evaluate(async () => {
      await navigator.serviceWorker.ready; // installed (precache filled) and active
      const names = await caches.keys();
      const paths: string[] = [];
      for (const n of names) for (const r of await (await caches.open(n)).keys()) paths.push(new URL(r.url).pathname);
      return { names, paths };
    });
    expect(cached.names.filter((n) => n.includes('precache'))).toHaveLength(1);
    for (const p of [
      '/index.html',
      '/models/tiny-world/model.safetensors',
      '/models/tiny-world/config.json',
      '/models/small-world/model.safetensors',
      '/corpus/small-world/heldout.txt',
      '/datasets/index.json',
      '/datasets/qa.jsonl',
      '/corpus/general-heldout.txt',
      '/manifest.webmanifest',
      '/icons/icon-512.png',
    ]) {
      expect(cached.paths, p).toContain(p);
    }
    for (const re of [
      /^\/assets\/trainer\.worker-.*\.js$/,
      /^\/assets\/tfjs-backend-wasm-simd-.*\.wasm$/,
      /^\/assets\/index-.*\.js$/,
    ])
      expect(
        cached.paths.some((p) => re.test(p)),
        String(re),
      ).toBe(true);
  });

  test('it is installable: a manifest with icons and a service worker, no installability errors', async () => {
    const manifest = await page.evaluate(async () => (await fetch('/manifest.webmanifest')).json());
    expect(manifest).toMatchObject({ name: 'LoRA Playground', display: 'standalone' });
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
      installabilityErrors: { errorId: string }[];
    };
    expect(installabilityErrors.map((e) => e.errorId)).toEqual([]);
    await cdp.detach();
  });

  test('with the server gone and the network off, a reload loads the page and trains a few steps to the end', async () => {
    await served!.close();
    served = null;
    await context.setOffline(true);
    await page.reload();
    // nothing reaches a server now: a file the service worker did not precache cannot be fetched
    expect(
      await page.evaluate(() =>
        fetch('/not-precached.txt').then(
          (r) => `HTTP ${r.status}`,
          (e: Error) => e.name,
        ),
      ),
    ).toBe('TypeError');
    await waitForEngine(page, 'wasm');
    await waitForModel(page, MODEL);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true); // COOP/COEP came back with the cached page
    await page.click('[data-testid=start]');
    expect(await waitForEnd(page, 120_000)).toBe('completed');
    expect(await lossPoints(page)).toBe(TINY_RUN['train.maxSteps']);
  });

  test('the page stayed clean: no uncaught errors, no CSP violations', async () => {
    expect(errors).toEqual(['console: Failed to load resource: net::ERR_INTERNET_DISCONNECTED']); // the probe for a file not precached, and nothing else
    expect(await cspViolations(page)).toEqual([]);
  });
});

/** Paths in the service worker's caches, by cache name. */
function cachedPaths(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(async () => {
    const out: Record<string, string[]> = {};
    for (const n of await caches.keys())
      out[n] = (await (await caches.open(n)).keys()).map((r) => new URL(r.url).pathname);
    return out;
  });
}
const entryScript = (paths: string[]) => paths.find((p) => /^\/assets\/index-.*\.js$/.test(p));

describe('a new release', () => {
  const RELEASE_2 = path.resolve('node_modules/.cache/browser-test-dist-release-2');
  let browser: Browser;
  let served: Served | null = null;

  beforeAll(async () => {
    // release 2: the same page with one more statement in the entry module, so its hashed file name changes
    await build({
      logLevel: 'error',
      build: { outDir: RELEASE_2, emptyOutDir: true },
      plugins: [
        {
          name: 'release-2',
          transform: (code, id) => (id.endsWith('/src/main.ts') ? `${code}\nglobalThis.release = 2;\n` : null),
        },
      ],
    });
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await served?.close();
    fs.rmSync(RELEASE_2, { recursive: true, force: true });
  });

  test('replaces the old release in the cache: new files in, dropped files out, one precache', async () => {
    served = await serveBuilt();
    const port = Number(new URL(served.baseUrl).port);
    const page = await browser.newPage();
    await page.goto(served.baseUrl);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 60_000 });
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    const before = Object.values(await cachedPaths(page)).flat();
    const oldEntry = entryScript(before);
    expect(oldEntry).toBeDefined();

    await served.close();
    served = await serveBuilt(RELEASE_2, port); // the same address, the next release
    await page.reload(); // this visit finds the new sw.js; it installs, takes over and cleans up
    let after: Record<string, string[]> = {};
    await expect
      .poll(
        async () => {
          after = await cachedPaths(page);
          const all = Object.values(after).flat();
          return {
            old: all.includes(oldEntry!),
            fresh: entryScript(all) !== undefined && entryScript(all) !== oldEntry,
          };
        },
        { timeout: 60_000 },
      )
      .toEqual({ old: false, fresh: true });
    expect(Object.keys(after).filter((n) => n.includes('precache'))).toHaveLength(1);
    expect(Object.values(after).flat()).toContain('/models/tiny-world/model.safetensors');

    await page.reload(); // the visit after runs release 2
    await expect
      .poll(() => page.evaluate(() => (globalThis as { release?: number }).release ?? null), { timeout: 30_000 })
      .toBe(2);
    await page.close();
  });
});
