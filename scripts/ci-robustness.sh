#!/usr/bin/env bash
# CI's robustness checks (issue 10), run after ./run.sh test has built the jars and the native tests:
#   1. fuzz: 2,000 cases in child JVMs, seeds 0-1499 (fixed) and 500 from a range that changes every day
#   2. sanitizers: libdcls.so and the native tests (the CUDA ones over the emulation too) built with ASan +
#      UBSan, the native tests run, then 300 fuzz cases (fixed seeds) against the sanitized library (the
#      sanitizer runtimes LD_PRELOADed)
#   3. soak: 10,000 training steps, resident memory sampled, at most 5% growth after the warm-up (2,000 steps)
# Any crash, hang, unclear exception, wrong result, sanitizer finding or leak fails it (exit 1).
# A longer fuzz run is one command: scripts/fuzz.sh --from 0 --count 20000
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export PATH="$JAVA_HOME/bin:$PATH"
jar=java/dcls4j-tools/target/dcls4j-tools-0.1.0-all.jar
reports=java/dcls4j-tools/target/robustness
mkdir -p "$reports"
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }

stamp "fuzz: fixed seeds"
scripts/fuzz.sh --from 0 --count 1500 --report "$reports/fuzz-fixed.txt"
day=$(( $(date -u +%s) / 86400 ))
rotating=$(( 1000000 + (day % 1000) * 1000 ))
stamp "fuzz: rotating seeds of day $day"
scripts/fuzz.sh --from "$rotating" --count 500 --report "$reports/fuzz-rotating.txt"

stamp "sanitizers: build"
scripts/sanitize-build.sh
asan_lib=java/dcls4j/target/cmake-asan/lib
# The JVM handles SIGSEGV itself (null checks, safepoints): ASan must leave it alone. Leaks are the
# soak's to find (the JVM's own allocations would drown them).
export ASAN_OPTIONS="detect_leaks=0:handle_segv=0:allow_user_segv_handler=1:abort_on_error=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
stamp "sanitizers: native tests"
tests=java/dcls4j/target/cmake-asan/tests/native
"$tests/test_api"
"$tests/test_construct"
"$tests/test_extremes"
"$tests/test_conv" 20240601 60 10   # 60 random shapes and 10 for the own kernels (300 and 40 unsanitized)
"$tests/test_cuda_emu" 20240611 3 quick   # the CUDA kernels' indexing, over the CPU emulation of CUDA
"$tests/test_cuda_nn_emu"
stamp "sanitizers: fuzz against the sanitized library"
preload="$(g++ -print-file-name=libasan.so):$(g++ -print-file-name=libubsan.so)"
scripts/fuzz.sh --from 0 --count 300 --timeout 120 --report "$reports/fuzz-sanitized.txt" \
  --env "LD_PRELOAD=$preload" --env "DCLS4J_LIBRARY_PATH=$PWD/$asan_lib"
unset ASAN_OPTIONS UBSAN_OPTIONS

stamp "soak"
java -Xms256m -Xmx256m -XX:+AlwaysPreTouch --enable-native-access=ALL-UNNAMED -cp "$jar" io.dcls4j.fuzz.Soak 10000
stamp "robustness checks passed"
