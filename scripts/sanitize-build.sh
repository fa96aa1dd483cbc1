#!/usr/bin/env bash
# Builds libdcls.so and the native tests with AddressSanitizer and UndefinedBehaviorSanitizer into
# java/dcls4j/target/cmake-asan (the library and oneDNN's beside it in .../cmake-asan/lib). Needs the
# Maven build's unpacked oneDNN (java/dcls4j/target/dnnl). Any sanitizer finding aborts the process
# that hit it (-fno-sanitize-recover), so a finding fails the test that ran it.
set -euo pipefail
cd "$(dirname "$0")/.."
dnnl=java/dcls4j/target/dnnl/org/bytedeco/dnnl/linux-x86_64
build=java/dcls4j/target/cmake-asan
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDNNL_ROOT="$PWD/$dnnl" -DDCLS_OUTPUT_DIR="$PWD/$build/lib" \
  -DDCLS_WITH_CUDA=OFF -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$build" --parallel 2 --target dcls test_construct test_conv test_api test_extremes \
  test_cuda_emu test_cuda_nn_emu
