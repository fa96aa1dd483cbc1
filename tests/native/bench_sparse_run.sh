#!/bin/sh
# bench_sparse's cases side by side with the PyTorch DCLS reference, in one run (BENCHMARKS.md,
# "Few taps"). Usage: tests/native/bench_sparse_run.sh <build dir> <reference DCLS folder> [reps]
set -e
build=$1; ref=$2; reps=${3:-7}
here=$(dirname "$0")
peer() { DCLS_SRC=$ref /usr/bin/python3 "$here/bench_sparse_peer.py" --reps "$reps" --threads 2 "$@" | tail -1; }
echo "== load: $(cat /proc/loadavg)"
"$build/tests/native/bench_sparse" "$reps"
echo "== PyTorch DCLS reference (2 threads)"
echo "delay-v1 (no grad x):   $(peer --version v1 --cin 700 --cout 256 --kernel-count 1 --dks 25 --input 32 700 124 --spread)"
echo "delay-v1 (grad x):      $(peer --version v1 --cin 700 --cout 256 --kernel-count 1 --dks 25 --input 32 700 124 --spread --grad-x)"
echo "delay-gauss (no grad x): $(peer --version gauss --cin 700 --cout 256 --kernel-count 1 --dks 25 --input 32 700 124 --spread --sigma 0.5)"
echo "delay-gauss (grad x):   $(peer --version gauss --cin 700 --cout 256 --kernel-count 1 --dks 25 --input 32 700 124 --spread --sigma 0.5 --grad-x)"
echo "dw17-v0-spread (no grad x): $(peer --version v0 --cin 96 --cout 96 --groups 96 --kernel-count 34 --dks 17 17 --padding 8 8 --input 8 96 56 56 --spread)"
echo "delay-v1-inf1:          $(peer --version v1 --cin 700 --cout 256 --kernel-count 1 --dks 25 --input 1 700 124 --spread --round)"
echo "dw17-v1-inf1:           $(peer --version v1 --cin 96 --cout 96 --groups 96 --kernel-count 34 --dks 17 17 --padding 8 8 --input 1 96 56 56 --spread --round)"
echo "== load: $(cat /proc/loadavg)"
