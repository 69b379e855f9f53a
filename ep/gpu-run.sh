#!/usr/bin/env bash
# Expert parallelism on a multi-GPU machine, from a gpu/assemble bundle: the NCCL and expert-parallel gpu
# tests, then the benchmark (DeepSeek-V3-class layer, T = 256, 1024, 4096, 16384 tokens per GPU, on 1, 2 and
# 4 GPUs, both strategies, with the machine's NCCL all-reduce bus bandwidth). Logs, JUnit XML and the
# benchmark's JSON go to $OUT. Every step runs under a wall-clock limit, so a hang ends as a failure.
#
#   here:   gpu/assemble                     # the bundle, .gpu/dist (carried with the working tree)
#   there:  OUT=/some/dir bash ep/gpu-run.sh [DIST]        # DIST: default .gpu/dist
#
#   EP_TEST_RANKS=2,4          rank counts the tests run (default: 4 on a machine with 4+ GPUs, else 2)
#   EP_BENCH_GPUS=1,2,4        GPU counts the benchmark runs (those the machine has)
#   EP_BENCH_TOKENS=256,1024,4096,16384
#   EP_SKIP_TESTS=1 / EP_SKIP_BENCH=1
#   EP_TEST_TIMEOUT=320 / EP_BENCH_TIMEOUT=240   seconds
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dist=$(realpath -m "${1:-$root/.gpu/dist}")
out=$(realpath -m "${OUT:-$PWD/ep-results}")
mkdir -p "$out"
export OUT=$out
# NCCL reads this from the environment: NVLink multicast stays off on the shared GPU machines
export NCCL_NVLS_ENABLE=0
[[ -x $dist/run-tests || -f $dist/run-tests ]] || { echo "ep/gpu-run.sh: no bundle at $dist (run gpu/assemble first)" >&2; exit 2; }

{ nvidia-smi -L; echo; nvidia-smi topo -m; } > "$out/gpus.txt" 2>&1 || true
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
# the tests' rank count: the largest of 2 and 4 the machine has (a 2-GPU and a 4-GPU run cover both)
export EP_TEST_RANKS=${EP_TEST_RANKS:-$([[ ${gpus:-0} -ge 4 ]] && echo 4 || echo 2)}
echo "ep/gpu-run.sh: $gpus GPU(s), bundle $dist, results in $out, NCCL_NVLS_ENABLE=$NCCL_NVLS_ENABLE, test ranks $EP_TEST_RANKS"
cat "$out/gpus.txt"

tests_rc=0
if [[ ${EP_SKIP_TESTS:-0} != 1 ]]; then
  echo "== gpu tests (limit ${EP_TEST_TIMEOUT:-320} s)"
  timeout --kill-after=15 "${EP_TEST_TIMEOUT:-320}" bash "$dist/run-tests" -- \
      --select-class io.moeoracle.driver.nccl.NcclGpuTest \
      --select-class io.moeoracle.ep.EpFailureGpuTest \
      --select-class io.moeoracle.ep.EpGpuTest 2>&1 | tee "$out/ep-gpu-tests.log"
  tests_rc=${PIPESTATUS[0]}
  [[ $tests_rc == 124 || $tests_rc == 137 ]] && echo "ep/gpu-run.sh: the gpu tests ran past their limit (rc $tests_rc)"
fi

bench_rc=0
if [[ ${EP_SKIP_BENCH:-0} != 1 ]]; then
  echo "== benchmark (limit ${EP_BENCH_TIMEOUT:-240} s)"
  timeout --kill-after=15 "${EP_BENCH_TIMEOUT:-240}" bash "$dist/run-bench" io.moeoracle.ep.EpBench --out "$out" \
      --gpus "${EP_BENCH_GPUS:-1,2,4}" --tokens "${EP_BENCH_TOKENS:-256,1024,4096,16384}" 2>&1 | tee "$out/ep-bench.log"
  bench_rc=${PIPESTATUS[0]}
  [[ $bench_rc == 124 || $bench_rc == 137 ]] && echo "ep/gpu-run.sh: the benchmark ran past its limit (rc $bench_rc)"
fi

echo "== summary: gpu tests rc=$tests_rc, benchmark rc=$bench_rc; files in $out:"
ls -la "$out"
[[ $tests_rc == 0 && $bench_rc == 0 ]]
