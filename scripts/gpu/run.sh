#!/usr/bin/env bash
# Runs the packed GPU bench (scripts/gpu/pack.sh made this folder) on a machine with a GPU: unpacks node and
# dawn.node with Python's lzma (no xz needed), finds the NVIDIA Vulkan driver where the device tool's machines keep
# it, and runs WebGPU (Dawn) beside PyTorch CUDA. Arguments go to the bench (--sizes, --methods, --steps).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
TMP="${TMPDIR:-/tmp}/lora-playground-gpu"
mkdir -p "$TMP"
python3 - "$HERE" "$TMP" <<'PY'
import lzma, os, shutil, sys
here, tmp = sys.argv[1], sys.argv[2]
for name in ("node", "dawn.node"):
    with lzma.open(os.path.join(here, name + ".xz")) as src, open(os.path.join(tmp, name), "wb") as dst:
        shutil.copyfileobj(src, dst)
os.chmod(os.path.join(tmp, "node"), 0o755)
PY
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; fi
done
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "(no nvidia-smi)"
# bench_torch.py is found relative to the working directory
mkdir -p "$TMP/scripts" && cp "$HERE/bench_torch.py" "$TMP/scripts/"
cd "$TMP"
PYTHON="${PYTHON:-python3}" ./node "$HERE/bench-gpu.mjs" --dawn "$TMP/dawn.node" --out "$TMP/gpu.json" "$@" | tee "$TMP/table.md"
if [ -n "${OUT:-}" ]; then cp "$TMP/gpu.json" "$TMP/table.md" "$OUT/"; fi
