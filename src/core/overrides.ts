// "--set train.lr=3e-4" style overrides, shared by the CLI and the URL hash. Unknown paths are errors.

import type { RunConfig } from './config';

/** Applies one dotted-path assignment to a copy of the config. The value is parsed as JSON when it can be. */
export function setPath(c: RunConfig, assignment: string): RunConfig {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new Error(`--set expects path=value (for example train.lr=0.001), got "${assignment}"`);
  const keys = assignment.slice(0, eq).trim().split('.');
  const raw = assignment.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  const out = structuredClone(c);
  let node = out as unknown as Record<string, unknown>;
  keys.forEach((k, i) => {
    if (!(k in node)) throw new Error(`unknown config field "${keys.slice(0, i + 1).join('.')}"`);
    if (i === keys.length - 1) {
      const old = node[k];
      if (Array.isArray(old) && typeof value === 'string') value = value.split(',').filter(Boolean);
      node[k] = value;
    } else node = node[k] as Record<string, unknown>;
  });
  return out;
}
