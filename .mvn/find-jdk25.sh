# Sourced by ./mvnw and ./moe-oracle: makes JAVA_HOME point at a JDK 25 or newer when the
# current one (or the `java` on PATH) is older. Looks where Linux packages, SDKMAN and
# Temurin installers put JDKs. Sets nothing when none is found; the build then names the problem.
moe_java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
moe_find_jdk25() {
  if [ -n "${JAVA_HOME-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    v=$(moe_java_major "$JAVA_HOME/bin/java"); [ "${v:-0}" -ge 25 ] 2>/dev/null && return 0
  fi
  if [ -z "${JAVA_HOME-}" ] && command -v javac >/dev/null 2>&1; then
    v=$(moe_java_major java); [ "${v:-0}" -ge 25 ] 2>/dev/null && return 0
  fi
  for d in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -x "$d/bin/javac" ] || continue
    v=$(moe_java_major "$d/bin/java")
    if [ "${v:-0}" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME="$d"
      return 0
    fi
  done
  echo "moe-oracle: no JDK 25 or newer found (looked in /usr/lib/jvm, /usr/java, /opt, ~/.sdkman, ~/.jdks); install one or set JAVA_HOME" >&2
  return 1
}
