// The whole setup as a URL hash: only the fields that differ from defaultConfig(), as readable
// path=value pairs ("#train.lr=0.01&lora.rank=8"), plus "lesson=<id>&hide=1" for a teacher's link.
// Values are read back with core's setPath, the same parser the CLI's --set uses.
// A link without a lesson always names its model, so that it keeps its meaning if the default model changes; a
// link that does not (written while tiny-world was the default) is read as tiny-world.

import { defaultConfig, LEGACY_MODEL, type RunConfig } from '../core/config';
import { OPTIONAL_GROUP, setPath } from '../core/overrides';
import { leaves } from './config-diff';

export interface HashState {
  overrides: string[]; // "path=value" assignments, in order
  lesson: string | null;
  variant: string | null; // a lesson variant id ("pitfall", a fix)
  hide: boolean; // hide the controls the lesson does not list
}

/** A value written so that setPath reads it back unchanged (plain text where that is unambiguous). */
function writeValue(v: unknown): string {
  if (typeof v === 'string') return readsAsString(v) && v !== '' && !/[&#=%\s"]/.test(v) ? v : JSON.stringify(v);
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && /^[\w-]+$/.test(x)))
    return v.join(',');
  return JSON.stringify(v);
}

/** True when setPath would read the bare text back as this same string (it tries JSON first). */
function readsAsString(v: string): boolean {
  try {
    JSON.parse(v);
    return false; // "123", "true", "null" would come back as other types
  } catch {
    return true;
  }
}

const encode = (s: string) =>
  encodeURIComponent(s)
    .replace(/%2C/g, ',')
    .replace(/%5B/g, '[')
    .replace(/%5D/g, ']')
    .replace(/%22/g, '"')
    .replace(/%3A/g, ':');

export function encodeHash(
  config: RunConfig,
  extra: { lesson?: string | null; variant?: string | null; hide?: boolean } = {},
  base: RunConfig = defaultConfig(),
): string {
  const parts: string[] = [];
  if (extra.lesson) parts.push(`lesson=${encode(extra.lesson)}`);
  if (extra.lesson && extra.variant) parts.push(`variant=${encode(extra.variant)}`);
  if (extra.lesson && extra.hide) parts.push('hide=1');
  const before = leaves(base);
  const changed: string[] = [];
  for (const [path, v] of leaves(config)) {
    if (JSON.stringify(before.get(path)) !== JSON.stringify(v)) changed.push(`${path}=${encode(writeValue(v))}`);
  }
  // a plain link that changes something names its model too (a link that changes nothing is the defaults)
  if (!extra.lesson && changed.length > 0 && !changed.some((c) => c.startsWith('model.name=')))
    changed.unshift(`model.name=${encode(writeValue(config.model.name))}`);
  return [...parts, ...changed].join('&');
}

export function decodeHash(hash: string): HashState {
  const out: HashState = { overrides: [], lesson: null, variant: null, hide: false };
  for (const part of hash.replace(/^#/, '').split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : safeDecode(part.slice(eq + 1));
    if (key === 'lesson') out.lesson = value;
    else if (key === 'variant') out.variant = value;
    else if (key === 'hide') out.hide = value !== '0';
    else out.overrides.push(`${key}=${value}`);
  }
  // a link from before small-world was the default: without a lesson and a model it meant tiny-world
  if (!out.lesson && out.overrides.length > 0 && !out.overrides.some((o) => o.startsWith('model.name=')))
    out.overrides.unshift(`model.name=${LEGACY_MODEL}`);
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const kindOf = (v: unknown) => (Array.isArray(v) ? 'list' : v === null ? 'null' : typeof v);
const KIND_WORDS: Record<string, string> = {
  number: 'a number',
  string: 'text (in double quotes if it looks like a number)',
  boolean: 'true or false',
  list: 'a comma-separated list',
};

/** Throws unless the assignment set one value of the kind the default has (the value itself is configProblems' to judge). */
function checkKind(before: RunConfig, next: RunConfig, assignment: string) {
  const path = assignment.slice(0, assignment.indexOf('=')).trim();
  const was = leaves(before);
  if (!was.has(path) && path.startsWith(`${OPTIONAL_GROUP}.`)) return; // a new Llama field: configProblems judges it
  if (!was.has(path)) {
    const inside = [...was.keys()].find((p) => p.startsWith(`${path}.`));
    throw new Error(`${path} is a group of settings, not one value: set one of them, such as ${inside}`);
  }
  const kind = kindOf(was.get(path));
  const value = leaves(next).get(path);
  if (kindOf(value) !== kind)
    throw new Error(`${path} expects ${KIND_WORDS[kind] ?? kind}, not ${JSON.stringify(value) ?? 'an object'}`);
}

/** Applies the hash's overrides to a config; each one that fails (unknown setting, wrong kind of value) is reported, the rest still apply. */
export function applyOverrides(config: RunConfig, overrides: string[]): { config: RunConfig; problems: string[] } {
  let c = config;
  const problems: string[] = [];
  for (const o of overrides) {
    try {
      const next = setPath(c, o);
      checkKind(c, next, o);
      c = next;
    } catch (e) {
      problems.push(`The link's setting "${o}" was ignored: ${(e as Error).message}.`);
    }
  }
  return { config: c, problems };
}
