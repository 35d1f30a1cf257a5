// The single-thread SIMD128 ceiling of this machine's wasm engine, measured: a hand-assembled module whose loop is
// nothing but independent f32x4 arithmetic on registers (no loads, no stores), so its GFLOP/s is what V8 can issue
// per second, the roof a matrix product on SIMD128 runs under. Three loops:
//   - mul+add: six f32x4.add chains and six f32x4.mul chains side by side (4 flops an instruction): the ceiling of a
//     product written without a fused multiply-add, as tfjs's XNNPACK build is;
//   - madd (unfused): twelve chains of acc = acc·y + x as a mul then an add (8 flops per pair);
//   - relaxed madd: twelve chains of f32x4.relaxed_madd (a fused multiply-add where the CPU has one, 8 flops an
//     instruction), where the engine validates relaxed SIMD (Chromium ships it; Node 20 behind
//     --experimental-wasm-relaxed-simd, which this script sets).
// Twelve chains of three- or four-cycle latency keep two pipes busy; more would spill the 16 vector registers.
//   npx tsx scripts/probes/simd-peak.ts [--iters 20000000]
// matmul-gflops.ts prints these beside the products' achieved GFLOP/s.

import { setFlagsFromString } from 'node:v8';

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const f32 = (x: number) => [...new Uint8Array(new Float32Array([x]).buffer)];
const SIMD = (op: number) => [0xfd, ...leb(op)];
const ADD = SIMD(228); // f32x4.add
const MUL = SIMD(230); // f32x4.mul
const MADD = SIMD(261); // f32x4.relaxed_madd (a·b + c)
const SPLAT = SIMD(19); // f32x4.splat
const LANE0 = [...SIMD(31), 0]; // f32x4.extract_lane 0
const get = (i: number) => [0x20, ...leb(i)];
const set = (i: number) => [0x21, ...leb(i)];

type Kind = 'muladd' | 'madd-unfused' | 'relaxed';
const CHAINS = 12;

/** One function (param i32 iterations) (result f32): locals 1..12 the chains, 13 = x, 14 = y. */
function body(kind: Kind): number[] {
  const X = CHAINS + 1;
  const Y = CHAINS + 2;
  const code: number[] = [];
  for (let i = 1; i <= CHAINS; i++) code.push(0x43, ...f32(1 + i / 64), ...SPLAT, ...set(i));
  code.push(0x43, ...f32(1e-7), ...SPLAT, ...set(X), 0x43, ...f32(0.9999999), ...SPLAT, ...set(Y));
  code.push(0x03, 0x40); // loop
  for (let i = 1; i <= CHAINS; i++) {
    if (kind === 'relaxed') code.push(...get(i), ...get(Y), ...get(X), ...MADD, ...set(i));
    else if (kind === 'madd-unfused') code.push(...get(i), ...get(Y), ...MUL, ...get(X), ...ADD, ...set(i));
    else if (i <= CHAINS / 2) code.push(...get(i), ...get(X), ...ADD, ...set(i));
    else code.push(...get(i), ...get(Y), ...MUL, ...set(i));
  }
  // n -= 1; continue while n != 0
  code.push(...get(0), 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b);
  code.push(...get(1));
  for (let i = 2; i <= CHAINS; i++) code.push(...get(i), ...ADD); // every chain feeds the result: none is dead
  code.push(...LANE0, 0x0b);
  const locals = [1, ...leb(CHAINS + 2), 0x7b]; // one run of v128 locals
  const fn = [...locals, ...code];
  return [...leb(fn.length), ...fn];
}

function module(kind: Kind): Uint8Array<ArrayBuffer> {
  const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
  const name = [...new TextEncoder().encode('peak')];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]), // type: (i32) -> f32
    ...section(3, [1, 0]),
    ...section(7, [1, name.length, ...name, 0x00, 0]),
    ...section(10, [1, ...body(kind)]),
  ];
  return new Uint8Array(bytes);
}

export interface SimdPeak {
  muladd: number; // GFLOP/s: independent f32x4 mul and add instructions
  maddUnfused: number; // GFLOP/s: acc·y + x as mul then add
  relaxed: number | null; // GFLOP/s: f32x4.relaxed_madd, null where the engine refuses relaxed SIMD
}

/** Best of `reps` timings of each loop, in GFLOP/s. */
export function simdPeak(iters = 20_000_000, reps = 5): SimdPeak {
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd'); // before the module is compiled; a no-op where shipped
  } catch {
    /* not Node */
  }
  const run = (kind: Kind, flopsPerIter: number): number | null => {
    let peak: (n: number) => number;
    try {
      peak = new WebAssembly.Instance(new WebAssembly.Module(module(kind))).exports.peak as (n: number) => number;
    } catch {
      return null;
    }
    peak(100_000); // tier up
    let best = Infinity;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      const v = peak(iters);
      const ms = performance.now() - t0;
      if (!Number.isFinite(v)) throw new Error(`${kind}: the chains overflowed (${v})`);
      best = Math.min(best, ms);
    }
    return (iters * flopsPerIter) / (best * 1e6);
  };
  return {
    muladd: run('muladd', CHAINS * 4)!,
    maddUnfused: run('madd-unfused', CHAINS * 8)!,
    relaxed: run('relaxed', CHAINS * 8),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const iters = argv.includes('--iters') ? Number(argv[argv.indexOf('--iters') + 1]) : 20_000_000;
  const p = simdPeak(iters);
  const g = (v: number | null) => (v === null ? 'refused by this engine' : `${v.toFixed(1)} GFLOP/s`);
  console.log(`SIMD128, one thread, ${iters.toLocaleString('en')} iterations of ${CHAINS} chains, best of 5:`);
  console.log(`  f32x4 mul and add, independent: ${g(p.muladd)}`);
  console.log(`  multiply-add as mul then add:   ${g(p.maddUnfused)}`);
  console.log(`  f32x4.relaxed_madd:             ${g(p.relaxed)}`);
}
