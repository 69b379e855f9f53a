#!/usr/bin/env bash
# Builds ep_kernels.fatbin (sm_80, sm_89, sm_90 machine code plus compute_80 PTX) into
# <classes>/io/moeoracle/ep/ so that it is packed in the jar. Without nvcc the build
# prints a WARNING naming the image and succeeds; ExpertParallelMoe then reports "kernel image not built"
# and a release build (-Prelease) refuses the jar. ep_kernels.cu takes its top-k routing step from
# cuda-moe/src/main/cuda (shared with marlin and flashinfer); the nvcc logic is cuda-moe's build-fatbin.sh.
#   build-fatbin.sh <cuda-src-dir> <classes-dir> [--nvcc=PATH]
#   nvcc: --nvcc (Maven: -Dmoe.nvcc=PATH), else $NVCC, else nvcc on the PATH, else /usr/local/cuda/bin/nvcc;
#   "none" builds as on a machine without the CUDA toolkit
set -euo pipefail
shared=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../../cuda-moe/src/main/cuda" && pwd)
exec bash "$shared/build-fatbin.sh" --module=ep --source="$1/ep_kernels.cu" \
  --out="$2/io/moeoracle/ep/ep_kernels.fatbin" --include="$shared" --depends="${BASH_SOURCE[0]}" \
  --targets="sm_80, sm_89, sm_90, compute_80 PTX" \
  --consequence="expert parallelism will report 'kernel image not built' (-Prelease refuses this)" "${3:-}" -- \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_89,code=sm_89 \
  -gencode arch=compute_90,code=sm_90 \
  -gencode arch=compute_80,code=compute_80
