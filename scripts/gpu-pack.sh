#!/usr/bin/env bash
# Packs what the Java GPU tests need on a GPU host that has no JDK and no network, into gpu-pack/
# (git-ignored; hand it to the host with the working tree, e.g. the device tool's `carry`):
#   jre.tar.xz        a jlinked JDK 25 runtime (java.base and the few modules the tests use), ~25 MB
#   dcls4j.jar        the shaded jar (native libraries for linux-x86_64 inside)
#   tests.jar         the compiled JUnit tests
#   junit-console.jar the JUnit Platform console launcher (from Maven Central)
#   golden/           the golden cases (../shared/golden)
#   tools/            the command line (dcls4j-tools.jar, picocli) for the model-step bench and training (run with
#                     --no-charts: JFreeChart and java.desktop would add 12 MB)
#   fashion-mnist/    real Fashion-MNIST: the first 6,400 training images (50 batches of 128, to time training in
#                     images/s) and the first 2,000 test images, as IDX files (the pack must stay under the device
#                     tool's 64 MiB carry limit, so not all 70,000)
# scripts/gpu-check.sh runs the Java tests, the model-step bench and the training from it when it is there.
#
#   scripts/gpu-pack.sh            (after ./run.sh test or mvn package; run on the development machine)
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}
JUNIT_PLATFORM=1.14.1  # the platform of junit-jupiter 5.14.1 (pom.xml)
PACK=gpu-pack
# A property of the root pom (the tools' dependency versions).
mvn_property() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" pom.xml | head -1; }

[ -f java/dcls4j/target/dcls4j-0.1.0.jar ] && [ -d java/dcls4j/target/test-classes ] \
    && [ -f java/dcls4j-tools/target/dcls4j-tools-0.1.0.jar ] || { echo "gpu-pack: build first (./run.sh test)" >&2; exit 1; }
FMNIST=${FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
[ -f "$FMNIST/train-images-idx3-ubyte.gz" ] || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }
rm -rf "$PACK" && mkdir -p "$PACK"

# jdk.management: the model-step bench's per-thread allocation counter.
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.xml,java.management,jdk.management,jdk.unsupported,jdk.zipfs,jdk.incubator.vector \
    --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$PACK/jre"
tar -C "$PACK" -cJf "$PACK/jre.tar.xz" jre && rm -rf "$PACK/jre"

cp java/dcls4j/target/dcls4j-0.1.0.jar "$PACK/dcls4j.jar"
"$JAVA_HOME/bin/jar" --create --file "$PACK/tests.jar" -C java/dcls4j/target/test-classes .
mvn -B -q -N org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact=org.junit.platform:junit-platform-console-standalone:$JUNIT_PLATFORM -DoutputDirectory="$PACK"
mv "$PACK/junit-platform-console-standalone-$JUNIT_PLATFORM.jar" "$PACK/junit-console.jar"
cp -r ../shared/golden "$PACK/golden"

mkdir -p "$PACK/tools"
cp java/dcls4j-tools/target/dcls4j-tools-0.1.0.jar "$PACK/tools/dcls4j-tools.jar"
mvn -B -q -N org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="info.picocli:picocli:$(mvn_property picocli.version)" -DoutputDirectory="$PACK/tools"

mkdir -p "$PACK/fashion-mnist"
for part in train:6400 t10k:2000; do
    for kind in images-idx3 labels-idx1; do
        python3 scripts/idx_head.py "${part#*:}" "$FMNIST/${part%%:*}-$kind-ubyte.gz" "$PACK/fashion-mnist/${part%%:*}-$kind-ubyte.gz"
    done
done

du -sh "$PACK" "$PACK"/*
bytes=$(du -sb "$PACK" | cut -f1)
[ "$bytes" -lt $((64 * 1024 * 1024)) ] || { echo "gpu-pack: $bytes bytes, over the device tool's 64 MiB carry limit" >&2; exit 1; }
