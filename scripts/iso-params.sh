#!/usr/bin/env bash
# The DCLS paper's claim in miniature (issue 12): `dcls4j train` with each depthwise convolution (dcls, dense 7x7,
# dilated 7x7 spread by 2: DCLS has no more parameters than the others) at 3 seeds, then a markdown table of test
# accuracy (mean +- sd), parameters and seconds per epoch (the median epoch: robust to a busy minute), from each
# run's metrics.json. A run whose metrics.json already holds all its epochs is not run again (so an interrupted
# table goes on where it stopped; the same seed gives the same accuracy).
# Usage: scripts/iso-params.sh [EPOCHS=7, the train default] [OUT=iso-params]   (extra train options after them, e.g. --eval-images)
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export PATH="$JAVA_HOME/bin:$PATH"
epochs="${1:-7}"; out="${2:-iso-params}"; shift $(( $# < 2 ? $# : 2 ))
jar="${DCLS4J_TOOLS_JAR:-java/dcls4j-tools/target/dcls4j-tools-0.1.0-all.jar}"   # a copy keeps a rebuild from changing a running table
[ -f "$jar" ] || mvn -B -q -DskipTests package
for conv in dcls dense dilated; do
  for seed in 1 2 3; do
    if [ -f "$out/$conv-$seed/metrics.json" ] && grep -q "\"epoch\": $epochs," "$out/$conv-$seed/metrics.json"; then
      echo "$conv seed $seed: done before ($out/$conv-$seed)"; continue
    fi
    java --enable-native-access=ALL-UNNAMED -jar "$jar" train --conv "$conv" --seed "$seed" --epochs "$epochs" \
      --out "$out/$conv-$seed" "$@" | grep --line-buffered -E "parameters|^epoch [0-9]+:"
  done
done
/usr/bin/python3 - "$out" "$epochs" <<'PY'
import json, statistics, sys
out, epochs = sys.argv[1], sys.argv[2]
print(f"\n| depthwise convolution ({epochs} epochs, seeds 1-3) | test accuracy, mean ± sd | parameters | s per epoch (median) |")
print("|---|---:|---:|---:|")
names = {"dcls": "DCLS gauss 7×7, K=9", "dense": "dense 7×7", "dilated": "dilated 7×7, dilation 2"}
for conv in ("dcls", "dense", "dilated"):
    runs = [json.load(open(f"{out}/{conv}-{s}/metrics.json")) for s in (1, 2, 3)]
    acc = [100 * r["test_accuracy"] for r in runs]
    sec = [e["seconds"] for r in runs for e in r["epochs"]]
    print(f"| {names[conv]} | {statistics.mean(acc):.2f}% ± {statistics.stdev(acc):.2f} | {runs[0]['parameters']:,} "
          f"| {statistics.median(sec):.1f} |")
PY
