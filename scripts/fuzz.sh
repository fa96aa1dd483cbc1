#!/usr/bin/env bash
# The fuzz harness (io.dcls4j.fuzz.Fuzz): random valid and invalid cases of every public entry point in
# child JVMs; exits 1 on any crash, hang, unclear exception or wrong result. Options: --from N --count N
# --workers N --batch N --timeout S --memory-limit SIZE --report FILE --env NAME=VALUE. Needs the jars
# (./run.sh test, or mvn -DskipTests package). A long run: scripts/fuzz.sh --from 0 --count 20000
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
exec "$JAVA_HOME/bin/java" -cp java/dcls4j-tools/target/dcls4j-tools-0.1.0-all.jar io.dcls4j.fuzz.Fuzz "$@"
