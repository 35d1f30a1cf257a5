// Text helpers shared by the corpus generators (scripts/maintain/make-data.ts, scripts/maintain/make-corpus-v2.ts): English
// articles, pronouns and lists, and the FNV-1a hash that splits documents between training and held-out text.

export const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
export const a = (w: string) => (/^[aeiou]/.test(w) ? `an ${w}` : `a ${w}`);
export const they = (p: { he: boolean }) => (p.he ? 'he' : 'she');
export const their = (p: { he: boolean }) => (p.he ? 'his' : 'her');
export const them = (p: { he: boolean }) => (p.he ? 'him' : 'her');
/** "a, b and c". */
export const list = (xs: string[]) =>
  xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;

/** Someone from `people` other than `p`, drawn with `pick`. */
export function otherThan<P>(p: P, people: readonly P[], pick: (xs: readonly P[]) => P): P {
  for (;;) {
    const q = pick(people);
    if (q !== p) return q;
  }
}

/** FNV-1a: splits slot combinations into train and held-out, independent of the random stream. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
