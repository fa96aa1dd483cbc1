#!/usr/bin/env bash
# The GPU check, in one command, for a GPU host that has the CUDA toolkit (nvcc), CMake, a C++
# compiler and a Python with PyTorch and cuDNN 9 (site-packages/nvidia/cudnn), but no JDK, no
# oneDNN and no network. Downloads nothing.
#
#   scripts/gpu-check.sh [--dcls-src DIR] [--convnext-src DIR] [--peer-bench FILE] [--out DIR] [--configs N]
#
#   --dcls-src DIR     the PyTorch DCLS reference (K-H-Ismail/Dilated-Convolution-with-Learnable-
#                      Spacings-PyTorch), extracted into the working tree beforehand (not committed);
#                      without it the peer is not timed
#   --convnext-src DIR the official ConvNeXt-DCLS (K-H-Ismail/ConvNeXt-dcls, holding models/convnext_dcls.py),
#                      extracted likewise: with --dcls-src, the PyTorch peer of the model-step bench
#   --peer-bench FILE  the peer's timing script (default: shared/peer/dcls_torch_bench.py, or
#                      ../shared/peer/dcls_torch_bench.py)
#   --out DIR          where the results go (default: $OUT, as the device tool sets it, else
#                      ./gpu-check-out)
#   --configs N        random shapes per family in test_cuda (default 120)
#
# Steps: configure and build libdcls_cuda.so, test_cuda, test_cuda_nn and bench_cuda with CMake
# (DCLS_WITH_ONEDNN=OFF: no libdcls.so; cuDNN from the Python site-packages); run test_cuda and
# test_cuda_nn (against CPU references compiled into them); time the DCLS layer of the benchmark (Dcls2d 96ch,
# groups 96, K=34, 17x17, padding 8, batch 64, 56x56, gauss and v0) with bench_cuda and, given
# --dcls-src, with the PyTorch reference on the same GPU.
# Also checks native/src/cuda/cudnn_api.h against the host's cudnn.h (cudnn_api_check.log).
# Results in the out folder: environment.txt, configure.log, build.log, cudnn_api_check.log, test_cuda.log,
# test_cuda_nn.log, bench_dcls4j.csv / .txt, bench_peer.csv / .txt, summary.txt; with gpu-pack/
# (scripts/gpu-pack.sh), also the Java GPU tests on a jlinked runtime (java_tests.log, java-reports/), the jar's own
# libdcls_cuda.so (built without cuDNN's headers) finding the devices and cuDNN and running the golden cases
# (jar_library_info.txt, jar_library_golden.log), a
# ConvNeXt-DCLS training step on the GPU against the same model in PyTorch (model_step.txt / .csv) and
# Fashion-MNIST training on the GPU, one epoch of the packed 6,400 images, tested on 2,000 (train.log: images/s).
# Exit status: 0 when test_cuda and test_cuda_nn (and the Java tests, if packed) passed and cudnn_api.h
# matches; 1 on a failure, a skip, a build error or a cudnn_api.h mismatch.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DCLS_SRC=""
CONVNEXT_SRC=""
PEER=""
OUT_DIR="${OUT:-$ROOT/gpu-check-out}"
CONFIGS=120
while [ $# -gt 0 ]; do
    case "$1" in
        --dcls-src) DCLS_SRC=$(cd "$2" && pwd); shift 2 ;;
        --convnext-src) CONVNEXT_SRC=$(cd "$2" && pwd); shift 2 ;;
        --peer-bench) PEER=$2; shift 2 ;;
        --out) OUT_DIR=$2; shift 2 ;;
        --configs) CONFIGS=$2; shift 2 ;;
        *) echo "usage: $0 [--dcls-src DIR] [--convnext-src DIR] [--peer-bench FILE] [--out DIR] [--configs N]" >&2
           exit 2 ;;
    esac
done
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
if [ -z "$PEER" ]; then
    for f in "$ROOT/shared/peer/dcls_torch_bench.py" "$ROOT/../shared/peer/dcls_torch_bench.py"; do
        [ -f "$f" ] && PEER=$f && break
    done
fi

command -v nvcc >/dev/null 2>&1 || export PATH="/usr/local/cuda/bin:$PATH"
PYTHON=${PYTHON:-$(command -v python3 || command -v python)}
BUILD=${BUILD_DIR:-/tmp/dcls4j-gpu-build}

# cuDNN from the Python site-packages (the nvidia-cudnn wheel PyTorch depends on).
if [ -z "${CUDNN_ROOT:-}" ]; then
    CUDNN_ROOT=$("$PYTHON" -c 'import nvidia.cudnn as m, os; print(os.path.dirname(m.__file__) if getattr(m, "__file__", None) else list(m.__path__)[0])' 2>/dev/null || true)
fi
# cuDNN's sub-libraries may need the other NVIDIA wheels' libraries (cuBLAS, NVRTC): all on the path.
NVIDIA_LIBS=$("$PYTHON" -c 'import nvidia, os, glob; print(":".join(sorted(d for p in nvidia.__path__ for d in glob.glob(os.path.join(p, "*", "lib")))))' 2>/dev/null || true)
export LD_LIBRARY_PATH="${CUDNN_ROOT:+$CUDNN_ROOT/lib:}${NVIDIA_LIBS:+$NVIDIA_LIBS:}${LD_LIBRARY_PATH:-}"

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown) $(git -C "$ROOT" status --porcelain 2>/dev/null | wc -l) changed files"
    echo "nvcc: $(nvcc --version 2>&1 | tail -1)"
    echo "cmake: $(cmake --version | head -1)"
    echo "python: $PYTHON $("$PYTHON" --version 2>&1)"
    echo "torch: $("$PYTHON" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())' 2>&1 | tail -1)"
    echo "CUDNN_ROOT: ${CUDNN_ROOT:-<not found>}"
    echo "LD_LIBRARY_PATH: $LD_LIBRARY_PATH"
    if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi 2>&1; else echo "nvidia-smi: not available"; fi
} > "$OUT_DIR/environment.txt"
cat "$OUT_DIR/environment.txt"

summary() { echo "$*" | tee -a "$OUT_DIR/summary.txt"; }
: > "$OUT_DIR/summary.txt"

# 1. Configure and build (no oneDNN: the CUDA library and its test and benchmark only).
if ! cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DDCLS_WITH_ONEDNN=OFF -DDCLS_WITH_CUDA=ON \
        -DCUDNN_ROOT="${CUDNN_ROOT:-}" -DDCLS_OUTPUT_DIR="$BUILD/lib" > "$OUT_DIR/configure.log" 2>&1; then
    tail -30 "$OUT_DIR/configure.log"
    summary "configure: FAILED (configure.log)"
    exit 1
fi
grep 'dcls4j:' "$OUT_DIR/configure.log"
if ! cmake --build "$BUILD" --parallel "$(nproc)" > "$OUT_DIR/build.log" 2>&1; then
    tail -40 "$OUT_DIR/build.log"
    summary "build: FAILED (build.log)"
    exit 1
fi
summary "build: ok, $(grep -ci 'warning' "$OUT_DIR/build.log") warning lines"

# 1b. The drift check of native/src/cuda/cudnn_api.h (our declarations of the cuDNN API, with which
#     libdcls_cuda.so is built) against this host's cudnn.h: tests/native/cudnn_api_check.cpp
#     compiles only when every value, struct layout and function type matches.
API_RC=0
if [ -n "${CUDNN_ROOT:-}" ] && [ -f "$CUDNN_ROOT/include/cudnn.h" ]; then
    CUDNN_HDR_VERSION=$(awk '/^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) /{printf "%s%s", sep, $3; sep="."}' \
        "$CUDNN_ROOT/include/cudnn_version.h" 2>/dev/null)
    if cmake --build "$BUILD" --target dcls_cudnn_api_check > "$OUT_DIR/cudnn_api_check.log" 2>&1; then
        summary "cudnn_api.h check: ok (matches $CUDNN_ROOT/include/cudnn.h, cuDNN ${CUDNN_HDR_VERSION:-?})"
    else
        grep -E 'error|static assertion' "$OUT_DIR/cudnn_api_check.log" | head -20
        summary "cudnn_api.h check: FAILED against cuDNN ${CUDNN_HDR_VERSION:-?} (cudnn_api_check.log)"
        API_RC=1
    fi
else
    summary "cudnn_api.h check: not run (no include/cudnn.h under CUDNN_ROOT='${CUDNN_ROOT:-}')"
fi

# 2. The test: 77 means it found no GPU, which on this host is a failure too.
"$BUILD/tests/native/test_cuda" 20240611 "$CONFIGS" > "$OUT_DIR/test_cuda.log" 2>&1
TEST_RC=$?
grep -E '^(device|FAIL|SKIPPED|backward weights:)|passed, .* failed' "$OUT_DIR/test_cuda.log" | head -60
case $TEST_RC in
    0) summary "test_cuda: PASSED ($(grep -E 'passed, .* failed' "$OUT_DIR/test_cuda.log"))" ;;
    77) summary "test_cuda: SKIPPED (no GPU seen): $(grep SKIPPED "$OUT_DIR/test_cuda.log")"; TEST_RC=1 ;;
    *) summary "test_cuda: FAILED rc=$TEST_RC ($(grep -E 'passed, .* failed' "$OUT_DIR/test_cuda.log" || echo 'no summary'))" ;;
esac

# 2b. The network layers' kernels (dcls_cuda_nn.h) against float64: skipped is a failure here too.
"$BUILD/tests/native/test_cuda_nn" > "$OUT_DIR/test_cuda_nn.log" 2>&1
NN_RC=$?
grep -E '^(FAIL|SKIPPED)|passed, .* failed' "$OUT_DIR/test_cuda_nn.log" | head -30
case $NN_RC in
    0) summary "test_cuda_nn: PASSED ($(grep -E 'passed, .* failed' "$OUT_DIR/test_cuda_nn.log"))" ;;
    77) summary "test_cuda_nn: SKIPPED (no GPU seen)"; NN_RC=1 ;;
    *) summary "test_cuda_nn: FAILED rc=$NN_RC ($(grep -E 'passed, .* failed' "$OUT_DIR/test_cuda_nn.log" || echo 'no summary'))" ;;
esac
[ "$NN_RC" -eq 0 ] || TEST_RC=1

# 3. The benchmark: dcls4j's CUDA path (each engine; "rows" and "segments": dcls4j's depthwise kernels
#    with each backward-weights kernel; "window", "sparse" and "cells": the kernel cells as a window, the
#    tap-sparse engine, and the cost model's choice, whose threshold has never been measured on a GPU), then the
#    PyTorch reference on the same GPU.
"$BUILD/tests/native/bench_cuda" --batch 64 --reps 20 --warmup 3 \
    --engines auto,rows,segments,cudnn,benchmark,window,sparse,cells \
    --csv "$OUT_DIR/bench_dcls4j.csv" \
    > "$OUT_DIR/bench_dcls4j.txt" 2>&1 || summary "bench_cuda: FAILED rc=$?"
cat "$OUT_DIR/bench_dcls4j.txt"

if [ -n "$DCLS_SRC" ] && [ -n "$PEER" ] && [ -f "$PEER" ]; then
    echo "version,construct_ms,forward_ms,fwdbwd_ms" > "$OUT_DIR/bench_peer.csv"
    : > "$OUT_DIR/bench_peer.txt"
    for v in gauss v0; do
        line=$(DCLS_SRC="$DCLS_SRC" "$PYTHON" "$PEER" --version "$v" --cin 96 --cout 96 --groups 96 --kernel-count 34 \
                   --dks 17 17 --padding 8 8 --input 64 96 56 56 --reps 20 --warmup 3 --device cuda 2>>"$OUT_DIR/bench_peer.txt" | tail -1)
        echo "$v: $line" | tee -a "$OUT_DIR/bench_peer.txt"
        # "construct_ms A forward_ms B fwdbwd_ms C" -> v,A,B,C
        echo "$line" | awk -v v="$v" '$1=="construct_ms"{print v "," $2 "," $4 "," $6}' >> "$OUT_DIR/bench_peer.csv"
    done
    summary "peer (PyTorch DCLS, --device cuda): $(tail -n +2 "$OUT_DIR/bench_peer.csv" | tr '\n' ' ')"
else
    summary "peer: not timed (give --dcls-src DIR with the reference extracted into the working tree; peer script: ${PEER:-not found})"
fi
# 4. The Java tests on the GPU (golden cases, GPU against CPU, training), when scripts/gpu-pack.sh packed
#    a runtime and the jars into gpu-pack/: the jar's CPU libraries, with the libdcls_cuda.so built above.
if [ -f "$ROOT/gpu-pack/jre.tar.xz" ]; then
    JAVA_DIR=/tmp/dcls4j-gpu-java
    rm -rf "$JAVA_DIR" && mkdir -p "$JAVA_DIR"
    tar -C "$JAVA_DIR" -xJf "$ROOT/gpu-pack/jre.tar.xz"
    "$JAVA_DIR/jre/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
        -Ddcls4j.cuda.library="$BUILD/lib/libdcls_cuda.so" -Ddcls4j.cache.dir="$JAVA_DIR/cache" \
        -Ddcls4j.golden.dir="$ROOT/gpu-pack/golden" \
        -jar "$ROOT/gpu-pack/junit-console.jar" execute \
        --class-path "$ROOT/gpu-pack/dcls4j.jar:$ROOT/gpu-pack/tests.jar" --scan-class-path "$ROOT/gpu-pack/tests.jar" \
        --include-classname "${JAVA_TESTS:-.*(Cuda|Gpu|Device).*Test}" --details summary --disable-banner \
        --reports-dir "$OUT_DIR/java-reports" > "$OUT_DIR/java_tests.log" 2>&1
    JAVA_RC=$?
    tail -25 "$OUT_DIR/java_tests.log"
    # Passed means: exit 0, some tests ran, none skipped or aborted (the console launcher's word for a
    # failed assumption: no GPU, or no cuDNN, was seen).
    if [ $JAVA_RC -eq 0 ] && grep -qE '^\[ *[1-9][0-9]* tests successful' "$OUT_DIR/java_tests.log" \
            && ! grep -qE '^\[ *[1-9][0-9]* tests (skipped|aborted)' "$OUT_DIR/java_tests.log"; then
        summary "java tests: PASSED ($(grep -E 'tests successful' "$OUT_DIR/java_tests.log" | tr -s ' '))"
    else
        summary "java tests: FAILED or skipped rc=$JAVA_RC (java_tests.log)"
        TEST_RC=1
    fi

    # 5. The command line on the GPU: a ConvNeXt-DCLS training step (tiny layout, N=8, 64x64) against the official
    #    model in PyTorch on the same card, then Fashion-MNIST training for images/s (no charts: the packed runtime
#    has no java.desktop).
    TOOLS_CP="$ROOT/gpu-pack/dcls4j.jar:$(ls "$ROOT"/gpu-pack/tools/*.jar | tr '\n' ':')"
    run_tool() {
        "$JAVA_DIR/jre/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
            -Djava.awt.headless=true -Ddcls4j.cuda.library="$BUILD/lib/libdcls_cuda.so" \
            -Ddcls4j.cache.dir="$JAVA_DIR/cache" -cp "$TOOLS_CP" io.dcls4j.cli.Main "$@"
    }
    # 5a. The libdcls_cuda.so the jar ships (built without cuDNN's headers, on a machine without a GPU): it must
    #     find this host's devices and load its cuDNN, and run the golden cases (dense DCLS convolutions among them)
    #     through cuDNN, not only the library built here.
    run_jar_library() {
        "$JAVA_DIR/jre/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
            -Djava.awt.headless=true -Ddcls4j.cache.dir="$JAVA_DIR/cache-jar" "$@"
    }
    run_jar_library -cp "$TOOLS_CP" io.dcls4j.cli.Main info > "$OUT_DIR/jar_library_info.txt" 2>&1
    run_jar_library -Ddcls4j.golden.dir="$ROOT/gpu-pack/golden" -jar "$ROOT/gpu-pack/junit-console.jar" execute \
        --class-path "$ROOT/gpu-pack/dcls4j.jar:$ROOT/gpu-pack/tests.jar" --select-class io.dcls4j.GoldenGpuTest \
        --details summary --disable-banner > "$OUT_DIR/jar_library_golden.log" 2>&1
    JAR_RC=$?
    if grep -qE '^CUDA: .*libdcls_cuda.so, [1-9]' "$OUT_DIR/jar_library_info.txt" \
            && grep -qE '^cuDNN: +[0-9]' "$OUT_DIR/jar_library_info.txt" && [ $JAR_RC -eq 0 ] \
            && grep -qE '^\[ *[1-9][0-9]* tests successful' "$OUT_DIR/jar_library_golden.log" \
            && ! grep -qE '^\[ *[1-9][0-9]* tests (skipped|aborted|failed)' "$OUT_DIR/jar_library_golden.log"; then
        summary "the jar's libdcls_cuda.so: devices and cuDNN found, golden cases PASSED ($(grep -E '^cuDNN' \
            "$OUT_DIR/jar_library_info.txt" | tr -s ' '))"
    else
        cat "$OUT_DIR/jar_library_info.txt"
        tail -15 "$OUT_DIR/jar_library_golden.log"
        summary "the jar's libdcls_cuda.so: FAILED (jar_library_info.txt, jar_library_golden.log)"
        TEST_RC=1
    fi

    MODEL_PEER=()
    [ -n "$DCLS_SRC" ] && [ -n "$CONVNEXT_SRC" ] && MODEL_PEER=(--peer-src "$DCLS_SRC" --convnext-src "$CONVNEXT_SRC" \
        --python "$PYTHON" --model-peer-script "$ROOT/scripts/convnext_dcls_torch_step.py")
    if run_tool bench --model-step --device cuda --reps 10 --warmup 3 "${MODEL_PEER[@]}" --csv "$OUT_DIR/model_step.csv" \
            > "$OUT_DIR/model_step.txt" 2>&1; then
        summary "model step: $(grep -E 'dcls4j: step|PyTorch .*step|ratio' "$OUT_DIR/model_step.txt" | tr -s ' ' | tr '\n' ' ')"
    else
        tail -20 "$OUT_DIR/model_step.txt"
        summary "model step: FAILED (model_step.txt)"
        TEST_RC=1
    fi
    if run_tool train --device cuda --data "$ROOT/gpu-pack/fashion-mnist" --data-prefix --epochs 1 --warmup-steps 10 --no-charts \
            --out "$OUT_DIR/train" > "$OUT_DIR/train.log" 2>&1; then
        summary "training (Fashion-MNIST, 6,400 images, 1 epoch): $(grep -E 'images/s' "$OUT_DIR/train.log" | tail -1 | tr -s ' ')"
    else
        tail -20 "$OUT_DIR/train.log"
        summary "training: FAILED (train.log)"
        TEST_RC=1
    fi
else
    summary "java tests, model step, training: not run (no gpu-pack/: run scripts/gpu-pack.sh on the development machine first)"
fi

summary "dcls4j (bench_cuda): $(tail -n +2 "$OUT_DIR/bench_dcls4j.csv" 2>/dev/null | cut -d, -f1-6 | tr '\n' ' ')"
summary "note: the peer's fwdbwd has no grad_x (its input needs no grad): compare with dcls4j's fwdbwd_no_grad_x_ms (column 6)"
[ $API_RC -ne 0 ] && TEST_RC=1
exit $TEST_RC
