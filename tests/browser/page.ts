// Page helpers for the browser tests: tiny run settings as a URL hash, waiting for the engine and for a run's end.

import * as fs from 'node:fs';
import type { Page } from 'playwright-core';
import { expect, inject } from 'vitest';

export const baseUrl = () => inject('baseUrl');

/** The built-in model, once it has been pretrained and shipped; until then the tests use a tiny random one. */
export const HAS_BUILTIN = fs.existsSync('public/models/tiny-world/config.json');

/** A random model small enough that WebGPU on SwiftShader (a CPU) takes about a second a step. */
export const TINY_RANDOM = {
  'model.name': 'random',
  'model.arch.nLayer': 1,
  'model.arch.nEmbd': 16,
  'model.arch.nHead': 2,
};

/** Few steps, small batches, one evaluation batch, no general-text evaluation. */
export const TINY_RUN = {
  'train.batchSize': 4,
  'train.maxSteps': 8,
  'eval.everySteps': 4,
  'eval.maxBatches': 1,
  'eval.general': false,
};

export function hashOf(settings: Record<string, string | number | boolean>): string {
  return (
    '#' +
    Object.entries(settings)
      .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
      .join('&')
  );
}

/** Registers, before any page script runs, a log of CSP violations and a long-task observer that starts when asked. */
export async function instrument(page: Page) {
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[]; __longTasks: number[]; __watchLongTasks(): void };
    w.__csp = [];
    w.__longTasks = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    w.__watchLongTasks = () => {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__longTasks.push(Math.round(e.duration));
      }).observe({ type: 'longtask' });
    };
  });
}

export const cspViolations = (page: Page) => page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
export const longTasks = (page: Page) =>
  page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
export const watchLongTasks = (page: Page) =>
  page.evaluate(() => (window as unknown as { __watchLongTasks(): void }).__watchLongTasks());

export async function waitForEngine(page: Page, backend: string, timeout = 120_000) {
  await page.waitForSelector('[data-testid=engine-status][data-status=ready]', { timeout });
  await expect.poll(() => page.textContent('[data-testid=engine-status]'), { timeout }).toContain(backend);
}

export async function waitForModel(page: Page, name: string, timeout = 120_000) {
  await expect.poll(() => page.textContent('[data-testid=model-loaded]').catch(() => null), { timeout }).toBe(name);
}

export const lossPoints = async (page: Page) =>
  Number(await page.getAttribute('[data-testid=loss-chart]', 'data-points'));

/** Waits until the run on screen has ended; returns its end reason (completed, early_stop, diverged, stopped, failed). */
export async function waitForEnd(page: Page, timeout: number): Promise<string> {
  const el = await page.waitForSelector('[data-testid=end-reason]', { timeout });
  return (await el.getAttribute('data-reason')) ?? '';
}
