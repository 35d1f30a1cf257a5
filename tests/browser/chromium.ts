// Launching Debian's Chromium for the browser tests, with the flags that give WebGPU on SwiftShader
// (--enable-unsafe-webgpu with the Vulkan SwiftShader adapter: see launch() below) and keep it off the network.

import * as fs from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-angle=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** A sentence saying how to get Chromium, or null when it is there. */
export function chromiumMissing(): string | null {
  if (fs.existsSync(CHROMIUM)) return null;
  return `Chromium was not found at ${CHROMIUM}. The browser tests need it: install it with "apt-get install -y chromium" (as .ci/run does) or point CHROMIUM_PATH at a Chromium binary. Never "npx playwright install".`;
}

export async function launch(): Promise<Browser> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}

/** A browser with a profile on disk (not incognito), which Chromium needs before it calls a page installable. */
export async function launchPersistent(userDataDir: string): Promise<BrowserContext> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  });
}

/** Collects uncaught page errors and console errors, so a test can assert the page stayed clean. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}
