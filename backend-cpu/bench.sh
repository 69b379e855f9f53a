#!/usr/bin/env bash
# Runs the cpu benchmark (gpt-oss-20b layer shape) from the built test classes.
# Usage: backend-cpu/bench.sh [tokens] [iterations] [results-folder]   (from the repository root)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
./mvnw -q -pl backend-cpu -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/bench-classpath.txt >/dev/null
. .mvn/find-jdk25.sh
moe_find_jdk25
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
cp="backend-cpu/target/classes:backend-cpu/target/test-classes:$(cat backend-cpu/target/bench-classpath.txt)"
exec "$java" --enable-native-access=ALL-UNNAMED -Xmx8g -XX:+UseSerialGC -cp "$cp" io.moeoracle.backend.cpu.CpuBenchmarkMain "$@"
