#!/usr/bin/env bash
# Builds the MXFP8 kernel harness (fp8_harness.cu) for the H100/H200 (sm_90a) next to this script,
# or into $1. Run it on the GPU machine:  ./fp8_harness quant | test mma [big] | test wg [big] | bench
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/fp8_harness}
nvcc=${NVCC:-nvcc}
"$nvcc" -O3 -std=c++17 -lineinfo -gencode=arch=compute_90a,code=sm_90a -Xcompiler -fopenmp \
  -I"$here/../../main/cuda" -I"$here/../../../../cuda-moe/src/main/cuda" -I"$here/../../../../cuda-moe/src/test/cuda" \
  "$here/fp8_harness.cu" -o "$out"
