#!/usr/bin/env bash
# dcls4j's two commands, on a fresh Debian machine with JDK 25, Maven, CMake and g++:
#   ./run.sh test    build the native library, run every test (JUnit 5 and native), package the jars
#   ./run.sh train   build the jars if needed, install Fashion-MNIST if missing, train ConvNeXt-DCLS on it (the main job)
#   ./run.sh demo    build the jars if needed, then run the teacher-student demo
#   ./run.sh bench   build the jars if needed, then print the benchmark table (extra arguments go to it)
set -euo pipefail
cd "$(dirname "$0")"
export JAVA_HOME="${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export PATH="$JAVA_HOME/bin:$PATH"

need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$2"; }; }
need cmake cmake
need g++ g++
need mvn maven

# The tools' uber jar: the command line, the library and its natives, picocli, JFreeChart, JMH.
jar=java/dcls4j-tools/target/dcls4j-tools-0.1.0-all.jar
build_jar() { [ -f "$jar" ] || mvn -B -q -DskipTests package; }
java_run() { java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -jar "$jar" "$@"; }

cmd="${1:-}"
shift || true
case "$cmd" in
  test) mvn -B verify "$@" && java -jar "$jar" info ;;   # the packaged uber jar loads its own libraries, no flags
  train) build_jar
         [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || [[ " $* " == *" --data "* ]] \
             || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }
         java_run train "$@" ;;
  demo) build_jar; java_run demo "$@" ;;
  bench) build_jar; java_run bench "$@" ;;
  *) echo "usage: ./run.sh test|train|demo|bench [args]" >&2; exit 2 ;;
esac
