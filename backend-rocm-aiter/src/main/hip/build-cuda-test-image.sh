#!/usr/bin/env bash
# Compiles the SAME kernel source (aiter_moe.hip) as CUDA (moe_port.h's MOE_TARGET_CUDA side:
# warp32, mma.sync) into <test-classes>/io/moeoracle/backend/aiter/aiter_moe_cuda.fatbin (sm_80 and
# sm_90a machine code, compute_80 PTX). A test artifact only: AiterCudaGpuTest runs it through
# driver-cuda against the float64 reference. Without nvcc: a WARNING, and that gpu test fails saying so.
# The nvcc logic (discovery, "none", up-to-date check) is the CUDA backends' one: cuda-moe's build-fatbin.sh.
#   build-cuda-test-image.sh <hip-src-dir> <test-classes-dir> [--nvcc=PATH]
set -euo pipefail
shared=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../../cuda-moe/src/main/cuda" && pwd)
exec bash "$shared/build-fatbin.sh" --module=backend-rocm-aiter --source="$1/aiter_moe.hip" \
  --out="$2/io/moeoracle/backend/aiter/aiter_moe_cuda.fatbin" --depends="${BASH_SOURCE[0]}" \
  --what="CUDA test image" --targets="sm_80, sm_90a, compute_80 PTX" \
  --consequence="AiterCudaGpuTest (gpu) will fail" "${3:-}" -- \
  -x cu -DMOE_TARGET_CUDA \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_90a,code=sm_90a \
  -gencode arch=compute_80,code=compute_80
