#!/usr/bin/env bash
# Builds marlin_moe.fatbin (sm_80, sm_89, sm_90a machine code plus compute_80 PTX) into
# <classes>/io/moeoracle/backend/marlin/ so that it is packed in the jar. Without nvcc the build
# says so and succeeds; the providers then report "kernel image not built".
#   build-fatbin.sh <cuda-src-dir> <classes-dir>     (NVCC=/path/to/nvcc, or NVCC=none to skip)
set -euo pipefail
src=$1
out=$2/io/moeoracle/backend/marlin
nvcc=${NVCC:-}
if [[ $nvcc == none ]]; then
  nvcc=""  # NVCC=none: build as on a machine without the CUDA toolkit
elif [[ -z $nvcc ]]; then
  if command -v nvcc >/dev/null 2>&1; then nvcc=$(command -v nvcc)
  elif [[ -x /usr/local/cuda/bin/nvcc ]]; then nvcc=/usr/local/cuda/bin/nvcc
  fi
fi
mkdir -p "$out"
if [[ -z $nvcc ]]; then
  echo "backend-marlin: nvcc not found (set NVCC or install the CUDA toolkit); the fatbin is NOT built and the"
  echo "backend-marlin: marlin providers will report 'kernel image not built'"
  rm -f "$out/marlin_moe.fatbin"
  exit 0
fi
fatbin=$out/marlin_moe.fatbin
if [[ -f $fatbin && $fatbin -nt $src/marlin_moe.cu && $fatbin -nt $0 ]]; then
  exit 0
fi
echo "backend-marlin: building marlin_moe.fatbin with $nvcc (sm_80, sm_89, sm_90a, compute_80 PTX)"
"$nvcc" -fatbin -O3 -std=c++17 \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_89,code=sm_89 \
  -gencode arch=compute_90a,code=sm_90a \
  -gencode arch=compute_80,code=compute_80 \
  -o "$fatbin.tmp" "$src/marlin_moe.cu"
mv "$fatbin.tmp" "$fatbin"
