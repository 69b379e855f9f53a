#!/usr/bin/env bash
# Builds the flashinfer-bf16 C++ harness (needs nvcc 12.8+; runs on sm_90a):
#   build-bf16-harness.sh [out-binary]   (default ./bf16_harness)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-./bf16_harness}
nvcc=${NVCC:-nvcc}
"$nvcc" -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -Xcompiler -fopenmp -Xptxas -v \
  -I"$here/../../main/cuda" -I"$here/../../../../cuda-moe/src/main/cuda" -I"$here/../../../../cuda-moe/src/test/cuda" \
  "$here/bf16_harness.cu" -o "$out" -ldl 2> "${out}.ptxas.txt" || { cat "${out}.ptxas.txt"; exit 1; }
grep -i "warn\|spill" "${out}.ptxas.txt" | grep -v " 0 bytes spill" || true
