#!/usr/bin/env bash
# Builds flashinfer_moe.fatbin (sm_89 and sm_90a machine code plus compute_89 PTX, which newer GPUs JIT:
# the mma.sync paths run there, the wgmma ones trap and are never launched) into
# <classes>/io/moeoracle/backend/flashinfer/ so that it is packed in the jar. Without nvcc the build prints
# a WARNING naming the image and succeeds; the providers then report "kernel image not built" and a
# release build (-Prelease) refuses the jar. fi_common.cuh includes the routing code shared with marlin
# and ep (cuda-moe/src/main/cuda); the nvcc logic is cuda-moe's build-fatbin.sh.
#   build-fatbin.sh <cuda-src-dir> <classes-dir> [--nvcc=PATH]
#   nvcc: --nvcc (Maven: -Dmoe.nvcc=PATH), else $NVCC, else nvcc on the PATH, else /usr/local/cuda/bin/nvcc;
#   "none" builds as on a machine without the CUDA toolkit
set -euo pipefail
shared=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../../cuda-moe/src/main/cuda" && pwd)
exec bash "$shared/build-fatbin.sh" --module=backend-flashinfer --source="$1/flashinfer_moe.cu" \
  --out="$2/io/moeoracle/backend/flashinfer/flashinfer_moe.fatbin" --include="$shared" \
  --depends="${BASH_SOURCE[0]}" --targets="sm_89, sm_90a, compute_89 PTX" \
  --consequence="the flashinfer providers will report 'kernel image not built' (-Prelease refuses this)" "${3:-}" -- \
  -gencode arch=compute_89,code=sm_89 \
  -gencode arch=compute_90a,code=sm_90a \
  -gencode arch=compute_89,code=compute_89
