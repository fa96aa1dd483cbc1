#!/usr/bin/env bash
# Regenerates the Panama bindings (bindings/io/dcls4j/ffi) from the C headers in native/include, with a
# jextract you provide (jextract is in no package registry: build it from github.com/openjdk/jextract, see
# bindings/README.md), and records each header's hash for BindingsUpToDateTest.
#
#   JEXTRACT=/path/to/jextract scripts/regenerate-bindings.sh      (or jextract on PATH)
#
# Every function, type and constant a header declares itself is bound (jextract --dump-includes, filtered to
# that header), so a new declaration needs no list to be edited; the system headers' symbols are left out.
# Header native/include/NAME.h gives the class io.dcls4j.ffi.NAME_h and bindings/NAME.h.sha256.
set -euo pipefail
cd "$(dirname "$0")/.."
JEXTRACT=${JEXTRACT:-$(command -v jextract || true)}
[ -n "$JEXTRACT" ] || { echo "regenerate-bindings: no jextract (set JEXTRACT or put it on PATH)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Only this script's classes: the subpackages mpi/ and nccl/ are scripts/regenerate-dist-bindings.sh's.
find bindings/io/dcls4j/ffi -maxdepth 1 -name '*.java' -delete 2>/dev/null || true
for header in native/include/*.h; do
    name=$(basename "$header" .h)
    abs=$(cd "$(dirname "$header")" && pwd)/$(basename "$header")
    "$JEXTRACT" --dump-includes "$work/$name.all" "$header" >/dev/null
    # Keep the header's own symbols; sort for a stable order.
    grep -F "# header: $abs" "$work/$name.all" | awk '{print $1, $2}' | sort > "$work/$name.args"
    # shellcheck disable=SC2046
    "$JEXTRACT" --target-package io.dcls4j.ffi --header-class-name "${name}_h" --output bindings \
        $(cat "$work/$name.args") "$header"
    sha256sum "$header" > "bindings/$name.h.sha256"
    echo "regenerate-bindings: $header -> io.dcls4j.ffi.${name}_h ($(wc -l < "$work/$name.args") symbols)"
done
