# Sourced by run-tests and run-bench: finds or unpacks a Java 25 and builds the class path.
# shellcheck shell=bash
dist=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]] && "$JAVA_HOME/bin/java" -version 2>&1 | grep -q '"2[5-9]'; then
  java=$JAVA_HOME/bin/java
elif command -v java >/dev/null && java -version 2>&1 | grep -q '"2[5-9]'; then
  java=java
else
  jre=${MOE_JRE_DIR:-/tmp/moe-oracle-jre}
  if [[ ! -x $jre/jre/bin/java ]]; then
    mkdir -p "$jre" && tar xzf "$dist/jre.tgz" -C "$jre"
  fi
  java=$jre/jre/bin/java
fi
# JVM signal chaining, as ./moe-oracle does: an OpenCL driver built on LLVM (PoCL, which the GPU
# machines register) installs signal handlers that would otherwise replace the JVM's
java_home=$(dirname "$(dirname "$(readlink -f "$(command -v "$java")")")")
if [[ -f $java_home/lib/libjsig.so ]]; then
  export LD_PRELOAD="$java_home/lib/libjsig.so${LD_PRELOAD:+:$LD_PRELOAD}"
else
  echo "env.sh: no libjsig.so in $java_home/lib; running without JVM signal chaining" >&2
fi
test_dirs=()
for d in "$dist"/test-classes/*/; do
  [[ -d $d ]] && test_dirs+=("${d%/}")
done
classpath="$dist/lib/*"
for d in "${test_dirs[@]}"; do classpath+=":$d"; done
# cuBLAS for the matmul ceiling: the toolkit's, or the one a Python wheel brought
if [[ -z ${MOE_CUBLAS:-} ]]; then
  MOE_CUBLAS=$(find /usr/local/cuda*/lib64 /usr/lib/x86_64-linux-gnu /opt /usr/local/lib /usr/lib/python3* \
      -maxdepth 9 -name 'libcublas.so.[0-9]*' 2>/dev/null | grep -v 'Lt' | sort | head -n 1 || true)
fi
jvm_flags=(--enable-native-access=ALL-UNNAMED -Xss2m)
[[ -n $MOE_CUBLAS ]] && jvm_flags+=("-Dmoe.cublas.path=$MOE_CUBLAS")
# NCCL for expert parallelism: the Python package nvidia-nccl-cu13 (or -cu12) on the GPU machines, else what
# the library's own search finds (java.library.path, the system loader, CUDA/NCCL folders); MOE_NCCL to choose
if [[ -z ${MOE_NCCL:-} ]]; then
  MOE_NCCL=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(os.path.dirname(nvidia.nccl.__file__), "lib", "libnccl.so.2"))' 2>/dev/null || true)
  if [[ ! -f $MOE_NCCL ]]; then
    MOE_NCCL=$(find /usr/local/lib/python3* /usr/lib/python3* /opt -maxdepth 8 -path '*nvidia/nccl/lib/libnccl.so.2' \
        2>/dev/null | sort | head -n 1 || true)
  fi
fi
[[ -n $MOE_NCCL && -f $MOE_NCCL ]] && jvm_flags+=("-Dmoe.nccl.library=$MOE_NCCL")
# NVLink multicast stays off on the shared GPU machines (NCCL reads this from the environment)
export NCCL_NVLS_ENABLE=${NCCL_NVLS_ENABLE:-0}
