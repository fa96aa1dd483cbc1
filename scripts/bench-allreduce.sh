#!/usr/bin/env bash
# Times DataParallel's gradient all-reduce (the communication of one data-parallel step) with N ranks on this
# machine, for the parameter counts given (floats): by default a small model (100k), a mid-size one (3.5M) and
# ConvNeXt-T-DCLS's 28.6M. Needs the built library and tests (mvn -DskipTests install once) and Open MPI.
#
#   scripts/bench-allreduce.sh [ranks] [floats...]        e.g. scripts/bench-allreduce.sh 2 28600000
#   MPIRUN_ARGS="--mca btl tcp,self" scripts/bench-allreduce.sh 2     (over TCP instead of shared memory)
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA_HOME="${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
np="${1:-2}"
shift || true
[ $# -gt 0 ] || set -- 100000 3500000 28600000
cp=java/dcls4j/target/test-classes:java/dcls4j/target/classes
# shellcheck disable=SC2086
mpirun --allow-run-as-root --oversubscribe -np "$np" --mca btl_vader_single_copy_mechanism none ${MPIRUN_ARGS:-} \
    "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx2g \
    -Ddcls4j.cache.dir=java/dcls4j/target/native-cache -cp "$cp" io.dcls4j.dist.AllReduceBenchMain "$@"
