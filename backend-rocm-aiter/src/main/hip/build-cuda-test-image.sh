#!/usr/bin/env bash
# Compiles the SAME kernel source (aiter_moe.hip) as CUDA (moe_port.h's MOE_TARGET_CUDA side:
# warp32, mma.sync) into <test-classes>/io/moeoracle/backend/aiter/aiter_moe_cuda.fatbin (sm_80 and
# sm_90a machine code, compute_80 PTX). A test artifact only: AiterCudaGpuTest runs it through
# driver-cuda against the float64 reference. Without nvcc: a WARNING, and that gpu test fails saying so.
#   build-cuda-test-image.sh <hip-src-dir> <test-classes-dir> [--nvcc=PATH]
set -euo pipefail
src=$1
out=$2/io/moeoracle/backend/aiter
nvcc=${NVCC:-}
[[ ${3:-} == --nvcc=?* ]] && nvcc=${3#--nvcc=}
why="nvcc not found (install the CUDA toolkit, or name it with -Dmoe.nvcc=/path/to/nvcc)"
if [[ $nvcc == none ]]; then
  nvcc=""; why="nvcc disabled (none)"
elif [[ -n $nvcc ]]; then
  if ! [[ -x $nvcc ]] && ! command -v "$nvcc" >/dev/null 2>&1; then why="nvcc not found at $nvcc"; nvcc=""; fi
else
  if command -v nvcc >/dev/null 2>&1; then nvcc=$(command -v nvcc)
  elif [[ -x /usr/local/cuda/bin/nvcc ]]; then nvcc=/usr/local/cuda/bin/nvcc
  fi
fi
mkdir -p "$out"
fatbin=$out/aiter_moe_cuda.fatbin
if [[ -z $nvcc ]]; then
  echo "[WARNING] backend-rocm-aiter: CUDA test image aiter_moe_cuda.fatbin NOT built: $why; AiterCudaGpuTest (gpu) will fail"
  rm -f "$fatbin"
  exit 0
fi
if [[ -f $fatbin && $fatbin -nt $src/aiter_moe.hip && $fatbin -nt $src/moe_port.h && $fatbin -nt $0 ]]; then
  exit 0
fi
echo "backend-rocm-aiter: building the CUDA test image of aiter_moe.hip with $nvcc (sm_80, sm_90a, compute_80 PTX)"
"$nvcc" -fatbin -O3 -std=c++17 -x cu -DMOE_TARGET_CUDA \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_90a,code=sm_90a \
  -gencode arch=compute_80,code=compute_80 \
  -o "$fatbin.tmp" "$src/aiter_moe.hip"
mv "$fatbin.tmp" "$fatbin"
