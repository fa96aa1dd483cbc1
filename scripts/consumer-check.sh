#!/usr/bin/env bash
# Uses dcls4j as a separate project would (issue: "A library others can depend on"): installs the library
# into the local Maven repository, builds tests/consumer against it, checks that its dependency tree holds
# dcls4j alone (no picocli, JFreeChart, JMH, jopt-simple, commons-math3), and runs its training step on the
# class path and as a named module on the module path. Run after the build (./run.sh test does).
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export PATH="$JAVA_HOME/bin:$PATH"

mvn -B -q -N install                                       # the parent pom
mvn -B -q -pl java/dcls4j install -DskipTests >/dev/null
cd tests/consumer
mvn -B -q clean package                                   # clean: classes compiled against an older library jar would link to methods it no longer has
tree=$(mvn -B dependency:tree -DoutputType=text | sed -n '/dcls4j-consumer/,/BUILD/p')
echo "$tree" | grep -E '^\[INFO\] [+\\|]' || true
if echo "$tree" | grep -Eiq 'picocli|jfree|jmh|jopt|commons-math'; then
    echo "consumer-check: FAILED: the library drags tool dependencies in:" >&2; echo "$tree" >&2; exit 1
fi
mvn -B -q dependency:copy-dependencies -DoutputDirectory=target/deps -DincludeScope=runtime
lib=$(ls target/deps/dcls4j-*.jar)
cache=-Ddcls4j.cache.dir="$PWD/target/native-cache"
echo "class path:"
java --enable-native-access=ALL-UNNAMED "$cache" -cp "target/classes:$lib" example.TrainStep
echo "module path:"
out=$(java --enable-native-access=io.dcls4j "$cache" -p "target/classes:$lib" -m example.consumer/example.TrainStep)
echo "$out"
echo "$out" | grep -q "module path: true" || { echo "consumer-check: FAILED: not run as named modules" >&2; exit 1; }
echo "consumer-check: passed"
