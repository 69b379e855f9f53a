#!/usr/bin/env bash
# Builds flashinfer_moe.fatbin (sm_89 and sm_90a machine code plus compute_89 PTX, which newer GPUs JIT:
# the mma.sync paths run there, the wgmma ones trap and are never launched) into
# <classes>/io/moeoracle/backend/flashinfer/ so that it is packed in the jar. Without nvcc the build prints
# a WARNING naming the image and succeeds; the providers then report "kernel image not built" and a
# release build (-Prelease) refuses the jar.
#   build-fatbin.sh <cuda-src-dir> <classes-dir> [--nvcc=PATH]
#   nvcc: --nvcc (Maven: -Dmoe.nvcc=PATH), else $NVCC, else nvcc on the PATH, else /usr/local/cuda/bin/nvcc;
#   "none" builds as on a machine without the CUDA toolkit
set -euo pipefail
src=$1
out=$2/io/moeoracle/backend/flashinfer
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
  echo "[WARNING] backend-flashinfer: kernel image flashinfer_moe.fatbin NOT built: $why; the flashinfer providers will report 'kernel image not built' (-Prelease refuses this)"
  rm -f "$out/flashinfer_moe.fatbin"
  exit 0
fi
fatbin=$out/flashinfer_moe.fatbin
if [[ -f $fatbin && $fatbin -nt $0 ]]; then
  fresh=1
  for f in "$src"/*.cu "$src"/*.cuh; do
    [[ $f -nt $fatbin ]] && fresh=0
  done
  [[ $fresh == 1 ]] && exit 0
fi
echo "backend-flashinfer: building flashinfer_moe.fatbin with $nvcc (sm_89, sm_90a, compute_89 PTX)"
"$nvcc" -fatbin -O3 -std=c++17 \
  -gencode arch=compute_89,code=sm_89 \
  -gencode arch=compute_90a,code=sm_90a \
  -gencode arch=compute_89,code=compute_89 \
  -o "$fatbin.tmp" "$src/flashinfer_moe.cu"
mv "$fatbin.tmp" "$fatbin"
