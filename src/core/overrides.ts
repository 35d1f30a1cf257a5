// "--set train.lr=3e-4" style overrides, shared by the CLI and the URL hash. Unknown paths are errors.

import type { RunConfig } from './config';

/** The one optional group, absent from a GPT-2 model's arch, and its fields (config.ts's LlamaArch). */
export const OPTIONAL_GROUP = 'model.arch.llama';
const OPTIONAL_FIELDS = ['nKvHead', 'intermediateSize', 'ropeTheta', 'qkvBias', 'tiedHead'];

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
    const at = keys.slice(0, i + 1).join('.');
    // the Llama layout's options may be set on a GPT-2 default, which has no such group
    if (!(k in node) && at === OPTIONAL_GROUP && i < keys.length - 1) node[k] = {};
    const optional = keys.slice(0, i).join('.') === OPTIONAL_GROUP && OPTIONAL_FIELDS.includes(k);
    if (!(k in node) && !optional) throw new Error(`unknown config field "${at}"`);
    if (i === keys.length - 1) {
      const old = node[k];
      if (Array.isArray(old) && typeof value === 'string') value = value.split(',').filter(Boolean);
      node[k] = value;
    } else node = node[k] as Record<string, unknown>;
  });
  return out;
}
