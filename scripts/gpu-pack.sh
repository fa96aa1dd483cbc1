#!/usr/bin/env bash
# Packs what the Java GPU tests need on a GPU host that has no JDK and no network, into gpu-pack/
# (git-ignored; hand it to the host with the working tree, e.g. the device tool's `carry`):
#   jre.tar.xz        a jlinked JDK 25 runtime (java.base and the few modules the tests use), ~25 MB
#   dcls4j.jar        the shaded jar (native libraries for linux-x86_64 inside)
#   tests.jar         the compiled JUnit tests
#   junit-console.jar the JUnit Platform console launcher (from Maven Central)
#   golden/           the golden cases (../shared/golden)
# scripts/gpu-check.sh runs the Java tests from it when it is there.
#
#   scripts/gpu-pack.sh            (after ./run.sh test or mvn package; run on the development machine)
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}
JUNIT_PLATFORM=1.14.1  # the platform of junit-jupiter 5.14.1 (pom.xml)
PACK=gpu-pack

[ -f java/dcls4j/target/dcls4j-0.1.0.jar ] && [ -d java/dcls4j/target/test-classes ] || { echo "gpu-pack: build first (./run.sh test)" >&2; exit 1; }
rm -rf "$PACK" && mkdir -p "$PACK"

"$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.xml,java.management,jdk.unsupported,jdk.zipfs,jdk.incubator.vector \
    --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$PACK/jre"
tar -C "$PACK" -cJf "$PACK/jre.tar.xz" jre && rm -rf "$PACK/jre"

cp java/dcls4j/target/dcls4j-0.1.0.jar "$PACK/dcls4j.jar"
"$JAVA_HOME/bin/jar" --create --file "$PACK/tests.jar" -C java/dcls4j/target/test-classes .
mvn -B -q -N org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact=org.junit.platform:junit-platform-console-standalone:$JUNIT_PLATFORM -DoutputDirectory="$PACK"
mv "$PACK/junit-platform-console-standalone-$JUNIT_PLATFORM.jar" "$PACK/junit-console.jar"
cp -r ../shared/golden "$PACK/golden"

du -sh "$PACK" "$PACK"/*
