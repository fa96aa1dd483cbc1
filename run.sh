#!/usr/bin/env bash
# dcls4j's two commands, on a fresh Debian machine with JDK 25, Maven, CMake and g++:
#   ./run.sh test    build the native library, run every test (JUnit 5 and native), package the jar
#   ./run.sh demo    build the jar if needed, then run the demo (the main job)
#   ./run.sh bench   build the jar if needed, then print the benchmark table (extra arguments go to it)
set -euo pipefail
cd "$(dirname "$0")"
export JAVA_HOME="${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export PATH="$JAVA_HOME/bin:$PATH"

need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$2"; }; }
need cmake cmake
need g++ g++
need mvn maven

jar=target/dcls4j-0.1.0.jar
build_jar() { [ -f "$jar" ] || mvn -B -q -DskipTests package; }
java_run() { java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp "$jar" "$@"; }

cmd="${1:-}"
shift || true
case "$cmd" in
  test) mvn -B verify "$@" && java_run io.dcls4j.cli.Main info ;;   # the packaged jar loads its own libraries
  demo) build_jar; java_run io.dcls4j.cli.Main demo "$@" ;;
  bench) build_jar; java_run io.dcls4j.cli.Main bench "$@" ;;
  *) echo "usage: ./run.sh test|demo|bench [args]" >&2; exit 2 ;;
esac
