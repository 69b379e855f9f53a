#!/usr/bin/env bash
# Rebuilds the test fatbin from test_kernels.cu (sm_80 and sm_90a machine code, compute_80 PTX).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nvcc=${NVCC:-/usr/local/cuda/bin/nvcc}
"$nvcc" -fatbin -O3 \
  -gencode arch=compute_90a,code=sm_90a \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_80,code=compute_80 \
  -o "$here/../resources/kernels/test_kernels.fatbin" "$here/test_kernels.cu"
"$nvcc" -ptx -arch=compute_80 -o "$here/../resources/kernels/test_kernels.ptx" "$here/test_kernels.cu"
