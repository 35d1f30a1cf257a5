#!/bin/sh
# Does relaxed SIMD pay for our matmul? Builds kernels.c three ways (plain with Debian's clang 14, as shipped; plain
# with clang 19; relaxed with clang 19: -mrelaxed-simd -DRELAXED makes its FMA macro one f32x4.relaxed_madd) and times
# mm_packed, the kernel of every 2-D product of a step, on the models' shapes in Node 20 (relaxed SIMD behind
# --experimental-wasm-relaxed-simd), best of 15, GFLOP/s. Needs clang + lld 14 and clang-19 + lld-19 (apt-get).
#   sh scripts/probes/relaxed-mm.sh
set -eu
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
flags="--target=wasm32 -O3 -msimd128 -mbulk-memory -nostdlib -Wl,--no-entry -Wl,--import-memory -Wl,--strip-all"
c19=${CLANG19:-/usr/lib/llvm-19/bin/clang}
# shellcheck disable=SC2086
clang $flags -o "$out/plain-clang14.wasm" src/core/kernels/wasm/kernels.c
# shellcheck disable=SC2086
"$c19" $flags -o "$out/plain-clang19.wasm" src/core/kernels/wasm/kernels.c
# shellcheck disable=SC2086
"$c19" $flags -mrelaxed-simd -DRELAXED -o "$out/relaxed-clang19.wasm" src/core/kernels/wasm/kernels.c
node --experimental-wasm-relaxed-simd -e '
const fs = require("fs");
const shapes = [[2048, 128, 384, 0], [2048, 384, 128, 1], [2048, 128, 512, 0], [2048, 512, 128, 0], [256, 576, 1536, 0]];
console.log("| build | " + shapes.map(([M, K, N, t]) => `${M}×${K}·${K}×${N}${t ? " (Bᵀ)" : ""}`).join(" | ") + " |");
console.log("| --- |" + " --- |".repeat(shapes.length));
for (const name of ["plain-clang14", "plain-clang19", "relaxed-clang19"]) {
  const memory = new WebAssembly.Memory({ initial: 2000 });
  const k = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(process.argv[1] + "/" + name + ".wasm")), { env: { memory } }).exports;
  const f = new Float32Array(memory.buffer);
  for (let i = 0; i < 2e7; i++) f[i] = Math.sin(i);
  const row = [];
  for (const [M, K, N, tb] of shapes) {
    const a = 0, b = 4 * M * K, c = b + 4 * K * N, p = c + 4 * M * N;
    let best = Infinity;
    for (let r = 0; r < 15; r++) { const t = performance.now(); k.mm_packed(a, b, c, p, M, K, N, tb); best = Math.min(best, performance.now() - t); }
    row.push((2 * M * K * N / best / 1e6).toFixed(1));
  }
  console.log(`| ${name} | ${row.join(" | ")} |`);
}
' "$out"
rm -r "$out"
