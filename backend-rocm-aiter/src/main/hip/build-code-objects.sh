#!/usr/bin/env bash
# Builds one AMDGPU code object (ELF, EM_AMDGPU) per target from aiter_moe.hip into
# <classes>/io/moeoracle/backend/aiter/aiter_moe-<gfx>.co, packed in the jar. No ROCm is needed:
# clang's HIP front end with -nogpulib -nogpuinc (the kernels use compiler builtins only) and lld.
# Each target takes the first clang that accepts it (Debian: clang-19 knows gfx942 but not gfx950;
# clang-22 knows both). A target no clang accepts gets a WARNING naming the code object; the
# providers then report "code object not built" for it, and a release build (-Prelease) refuses the jar.
#   build-code-objects.sh <hip-src-dir> <classes-dir> [--clang=PATH]
#   clang: --clang (Maven: -Dmoe.hipClang=PATH), else $MOE_HIP_CLANG, else clang-22 .. clang-19, clang on the PATH;
#   "none" builds as on a machine without the toolchain
set -euo pipefail
src=$1
out=$2/io/moeoracle/backend/aiter
clang=${MOE_HIP_CLANG:-}
[[ ${3:-} == --clang=?* ]] && clang=${3#--clang=}
targets=(gfx942 gfx950)
mkdir -p "$out"
if [[ $clang == none ]]; then
  candidates=()
elif [[ -n $clang ]]; then
  candidates=("$clang")
else
  candidates=(clang-22 clang-21 clang-20 clang-19 clang)
fi
flags=(-x hip --cuda-device-only -nogpulib -nogpuinc --no-gpu-bundle-output -O3 -std=c++17)
for target in "${targets[@]}"; do
  co=$out/aiter_moe-$target.co
  if [[ -f $co && $co -nt $src/aiter_moe.hip && $co -nt $src/moe_port.h && $co -nt $0 ]]; then
    continue
  fi
  built=""; tried=""
  for c in "${candidates[@]}"; do
    command -v "$c" >/dev/null 2>&1 || [[ -x $c ]] || continue
    tried="$tried $c"
    if "$c" "${flags[@]}" --offload-arch="$target" -o "$co.tmp" "$src/aiter_moe.hip" 2>"$co.log"; then
      mv "$co.tmp" "$co"; rm -f "$co.log"; built=$c
      echo "backend-rocm-aiter: built aiter_moe-$target.co with $c"
      break
    fi
  done
  if [[ -z $built ]]; then
    rm -f "$co" "$co.tmp"
    if [[ -z $tried ]]; then
      why="no clang found (install clang-22 and lld-22, or name one with -Dmoe.hipClang=/path/to/clang)"
    else
      why="no clang accepted $target (tried:$tried; last error: $(head -c 300 "$co.log" 2>/dev/null | tr '\n' ' '))"
    fi
    rm -f "$co.log"
    echo "[WARNING] backend-rocm-aiter: code object aiter_moe-$target.co NOT built: $why; aiter and aiter-fp8 will report 'code object not built' for $target (-Prelease refuses this)"
  fi
done
