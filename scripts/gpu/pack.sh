#!/usr/bin/env bash
# Packs the GPU bench (scripts/bench-gpu.ts) for a GPU machine that has Python but no Node and no network, such as
# the `device` tool's: into .gpu/ (git-ignored, about 33 MB) go the bench bundled into one file, this machine's
# node (xz), dawn.node from npm's `webgpu` package (xz), scripts/bench_torch.py and scripts/gpu/run.sh. There:
#   bash .gpu/run.sh            (writes the table, and gpu.json under $OUT when it is set)
# Vulkan's loader must be on that machine (the device tool's README says how to carry it as .gl/*.deb).
set -euo pipefail
cd "$(dirname "$0")/../.."
DAWN_VERSION=0.3.8 # linux-x64 dawn.node, 19.9 MB; 0.6.x ships 51 MB for every platform
rm -rf .gpu && mkdir -p .gpu
npx esbuild scripts/bench-gpu.ts --bundle --platform=node --format=esm --target=node20 --outfile=.gpu/bench-gpu.mjs \
  --banner:js="import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);" \
  --log-level=warning
if [ ! -f .gpu-cache/linux-x64.dawn.node ]; then
  mkdir -p .gpu-cache
  (cd .gpu-cache && npm pack "webgpu@$DAWN_VERSION" --silent >/dev/null && tar xzf "webgpu-$DAWN_VERSION.tgz" package/dist/linux-x64.dawn.node &&
    mv package/dist/linux-x64.dawn.node . && rm -rf package "webgpu-$DAWN_VERSION.tgz")
fi
xz -T2 -6 -c .gpu-cache/linux-x64.dawn.node > .gpu/dawn.node.xz
xz -T2 -6 -c "$(command -v node)" > .gpu/node.xz
cp scripts/bench_torch.py scripts/gpu/run.sh .gpu/
du -sh .gpu
