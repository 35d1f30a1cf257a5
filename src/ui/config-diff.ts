// What differs between two RunConfigs, in the field's short name: "lr 3e-3→1e-2". Labels earlier runs on the
// chart and in the run list, so a learner sees at a glance which knob each curve turned.

import type { RunConfig } from '../core/config';
import { SETTINGS } from '../core/settings';
import { shortNum } from './format';

export interface ConfigChange {
  path: string; // dotted path: "train.lr"
  from: unknown;
  to: unknown;
}

/** Every leaf (dotted path → value) of a config-like object; arrays are leaves. */
export function leaves(o: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    out.set(prefix, o);
    return out;
  }
  for (const [k, v] of Object.entries(o)) for (const [p, x] of leaves(v, prefix ? `${prefix}.${k}` : k)) out.set(p, x);
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function diffConfig(from: RunConfig, to: RunConfig): ConfigChange[] {
  const a = leaves(from);
  const b = leaves(to);
  const paths = [...new Set([...a.keys(), ...b.keys()])];
  return paths
    .filter((p) => !same(a.get(p), b.get(p)))
    .sort((p, q) => (RANK.get(p) ?? RANK.size) - (RANK.get(q) ?? RANK.size))
    .map((path) => ({ path, from: a.get(path), to: b.get(path) }));
}

// the names people say out loud, most telling first (a label lists changes in this order): the registry's short
// names, in its order (src/core/settings.ts); any other field uses its last path segment and comes after these
const SHORT: Record<string, string> = Object.fromEntries(
  SETTINGS.filter((x) => x.short !== undefined).map((x) => [x.path, x.short as string]),
);
const RANK = new Map(Object.keys(SHORT).map((p, i) => [p, i]));

export const shortName = (path: string) => SHORT[path] ?? path.split('.').pop() ?? path;

export function showValue(v: unknown): string {
  if (typeof v === 'number') return shortNum(v);
  if (Array.isArray(v)) return v.length ? v.join('+') : '∅';
  if (typeof v === 'string')
    return v.length > 14 ? JSON.stringify(v.slice(0, 12) + '…') : v.includes('\n') || v === '' ? JSON.stringify(v) : v;
  return String(v);
}

/** "lr 3e-3→1e-2, rank 4→8" (at most `max` changes, then "+N more"); "same config" when nothing differs. */
export function describeChanges(changes: ConfigChange[], max = 3): string {
  if (changes.length === 0) return 'same config';
  const parts = changes.slice(0, max).map((c) => `${shortName(c.path)} ${showValue(c.from)}→${showValue(c.to)}`);
  if (changes.length > max) parts.push(`+${changes.length - max} more`);
  return parts.join(', ');
}
