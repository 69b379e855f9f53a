#!/usr/bin/env bash
# Builds one CUDA fatbin with nvcc for a module of the reactor; each module's own build-fatbin.sh (the one
# its pom runs) calls this with what is particular to it. Without nvcc it prints a WARNING naming the image
# and what follows, removes a stale image and succeeds. Rebuilds only when the image is older than the
# source, a .cu/.cuh/.h/.hip file beside it or in an include dir, this script or a --depends file.
#   build-fatbin.sh --module=NAME --source=FILE --out=FATBIN --targets=TEXT --consequence=TEXT
#                   [--what=TEXT] [--include=DIR]... [--depends=FILE]... [--nvcc=PATH] -- NVCC-ARGS...
#   --targets: the machine code and PTX the NVCC-ARGS (-gencode ...) build, for the log line;
#   --what: the kind of image for the WARNING ("kernel image" unless told);
#   nvcc: --nvcc (Maven: -Dmoe.nvcc=PATH), else $NVCC, else nvcc on the PATH, else /usr/local/cuda/bin/nvcc;
#   "none" builds as on a machine without the CUDA toolkit
set -euo pipefail
module="" source="" out="" targets="" consequence="" what="kernel image" nvcc=${NVCC:-}
includes=() depends=()
while (($#)); do
  case $1 in
    --module=*) module=${1#*=} ;;
    --source=*) source=${1#*=} ;;
    --out=*) out=${1#*=} ;;
    --targets=*) targets=${1#*=} ;;
    --consequence=*) consequence=${1#*=} ;;
    --what=*) what=${1#*=} ;;
    --include=*) includes+=("${1#*=}") ;;
    --depends=*) depends+=("${1#*=}") ;;
    --nvcc=?*) nvcc=${1#*=} ;;
    --nvcc= | "") ;;  # Maven passes -Dmoe.nvcc's empty default; a module script its absent third argument
    --) shift; break ;;
    *) echo "build-fatbin.sh: unknown argument '$1' (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
  shift
done
for required in module source out targets consequence; do
  if [[ -z ${!required} ]]; then
    echo "build-fatbin.sh: --$required=... is required (see the usage at the top of $0)" >&2
    exit 2
  fi
done
name=$(basename "$out")
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
mkdir -p "$(dirname "$out")"
if [[ -z $nvcc ]]; then
  echo "[WARNING] $module: $what $name NOT built: $why; $consequence"
  rm -f "$out"
  exit 0
fi
if [[ -f $out ]]; then
  fresh=1
  for dir in "$(dirname "$source")" "${includes[@]}"; do
    for f in "$dir"/*.cu "$dir"/*.cuh "$dir"/*.h "$dir"/*.hip; do
      [[ -e $f && $f -nt $out ]] && fresh=0
    done
  done
  for f in "$source" "$0" "${depends[@]}"; do
    [[ $f -nt $out ]] && fresh=0
  done
  [[ $fresh == 1 ]] && exit 0
fi
echo "$module: building $name with $nvcc ($targets)"
include_flags=()
for dir in "${includes[@]}"; do include_flags+=("-I$dir"); done
"$nvcc" -fatbin -O3 -std=c++17 "${include_flags[@]}" "$@" -o "$out.tmp" "$source"
mv "$out.tmp" "$out"
