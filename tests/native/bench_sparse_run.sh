#!/bin/sh
# bench_sparse's cases side by side with the PyTorch DCLS reference, in one run (BENCHMARKS.md,
# "Few taps"). Usage: tests/native/bench_sparse_run.sh <build dir> <reference DCLS folder> [reps [cpu]]
# With "cpu": both on one thread, timed by process CPU time (comparable on a busy machine).
set -e
build=$1; ref=$2; reps=${3:-7}; mode=${4:-wall}
here=$(dirname "$0")
if [ "$mode" = cpu ]; then threads=1; peer_clock=--cpu-time; export OMP_NUM_THREADS=1 BENCH_CPU=1
else threads=2; peer_clock=; fi
peer() { DCLS_SRC=$ref /usr/bin/python3 "$here/bench_sparse_peer.py" --reps "$reps" --threads $threads $peer_clock "$@" 2>/dev/null | tail -1; }
echo "== load: $(cat /proc/loadavg), $mode"
"$build/tests/native/bench_sparse" "$reps"
echo "== PyTorch DCLS reference ($threads threads, $mode)"
echo "delay-v1 (no grad x):   $(peer --version v1 --cin 700 --cout 256 --kernel-count 1 --dks 25 --input 32 700 124 --spread)"
echo "delay-v1 (grad x):      $(peer --version v1 --cin 700 --cout 256 --kernel-count 1 --dks 25 --input 32 700 124 --spread --grad-x)"
echo "delay-gauss (no grad x): $(peer --version gauss --cin 700 --cout 256 --kernel-count 1 --dks 25 --input 32 700 124 --spread --sigma 0.5)"
echo "delay-gauss (grad x):   $(peer --version gauss --cin 700 --cout 256 --kernel-count 1 --dks 25 --input 32 700 124 --spread --sigma 0.5 --grad-x)"
echo "dw17-v0-spread (no grad x): $(peer --version v0 --cin 96 --cout 96 --groups 96 --kernel-count 34 --dks 17 17 --padding 8 8 --input 8 96 56 56 --spread)"
echo "delay-v1-inf1:          $(peer --version v1 --cin 700 --cout 256 --kernel-count 1 --dks 25 --input 1 700 124 --spread --round)"
echo "dw17-v1-inf1:           $(peer --version v1 --cin 96 --cout 96 --groups 96 --kernel-count 34 --dks 17 17 --padding 8 8 --input 1 96 56 56 --spread --round)"
echo "== load: $(cat /proc/loadavg)"
