#!/usr/bin/env bash
# Builds ep_kernels.fatbin (sm_80, sm_89, sm_90 machine code plus compute_80 PTX) into
# <classes>/io/moeoracle/ep/ so that it is packed in the jar. Without nvcc the build
# prints a WARNING naming the image and succeeds; ExpertParallelMoe then reports "kernel image not built"
# and a release build (-Prelease) refuses the jar.
#   build-fatbin.sh <cuda-src-dir> <classes-dir> [--nvcc=PATH]
#   nvcc: --nvcc (Maven: -Dmoe.nvcc=PATH), else $NVCC, else nvcc on the PATH, else /usr/local/cuda/bin/nvcc;
#   "none" builds as on a machine without the CUDA toolkit
set -euo pipefail
src=$1
out=$2/io/moeoracle/ep
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
if [[ -z $nvcc ]]; then
  echo "[WARNING] ep: kernel image ep_kernels.fatbin NOT built: $why; expert parallelism will report 'kernel image not built' (-Prelease refuses this)"
  rm -f "$out/ep_kernels.fatbin"
  exit 0
fi
fatbin=$out/ep_kernels.fatbin
if [[ -f $fatbin && $fatbin -nt $src/ep_kernels.cu && $fatbin -nt $0 ]]; then
  exit 0
fi
echo "ep: building ep_kernels.fatbin with $nvcc (sm_80, sm_89, sm_90, compute_80 PTX)"
"$nvcc" -fatbin -O3 -std=c++17 \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_89,code=sm_89 \
  -gencode arch=compute_90,code=sm_90 \
  -gencode arch=compute_80,code=compute_80 \
  -o "$fatbin.tmp" "$src/ep_kernels.cu"
mv "$fatbin.tmp" "$fatbin"
