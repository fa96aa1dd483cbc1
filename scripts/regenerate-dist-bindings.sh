#!/usr/bin/env bash
# Regenerates the Panama bindings of the distributed-training libraries, which dcls4j does not build but
# loads on demand (io.dcls4j.dist): Open MPI's C API (the system's mpi.h, Debian libopenmpi-dev) as
# io.dcls4j.ffi.mpi.mpi_h, and NCCL's (native/dist/dcls_nccl.h, our own declarations of the few functions
# used) as io.dcls4j.ffi.nccl.nccl_h; records each header's hash for DistBindingsUpToDateTest.
#
#   JEXTRACT=/path/to/jextract scripts/regenerate-dist-bindings.sh      (or jextract on PATH)
#   MPI_H=/path/to/mpi.h overrides the Debian location of Open MPI's header.
#
# mpi.h declares hundreds of functions: only those listed here are bound. Open MPI's MPI_COMM_WORLD,
# MPI_FLOAT, MPI_SUM and MPI_ERRORS_RETURN are macros over the addresses of global objects of an opaque
# type (ompi_mpi_comm_world, ...), which jextract skips ("type ... is not supported"): io.dcls4j.dist.Mpi
# looks those symbols' addresses up itself, as the macros take them. MPI_IN_PLACE ((void *) 1) and
# MPI_STATUS_IGNORE ((MPI_Status *) 0) are pointer macros jextract does not bind either; Mpi spells them.
set -euo pipefail
cd "$(dirname "$0")/.."
JEXTRACT=${JEXTRACT:-$(command -v jextract || true)}
[ -n "$JEXTRACT" ] || { echo "regenerate-dist-bindings: no jextract (set JEXTRACT or put it on PATH)" >&2; exit 2; }
MPI_H=${MPI_H:-/usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h}
[ -f "$MPI_H" ] || { echo "regenerate-dist-bindings: no $MPI_H (apt-get install libopenmpi-dev, or set MPI_H)" >&2; exit 2; }

mpi_args=()
for f in MPI_Init_thread MPI_Initialized MPI_Finalize MPI_Finalized MPI_Comm_rank MPI_Comm_size \
         MPI_Comm_set_errhandler MPI_Allreduce MPI_Iallreduce MPI_Bcast MPI_Ibcast MPI_Barrier MPI_Ibarrier \
         MPI_Wait MPI_Test MPI_Error_string MPI_Abort; do
    mpi_args+=(--include-function "$f")
done
for t in MPI_Comm MPI_Datatype MPI_Op MPI_Request MPI_Errhandler; do
    mpi_args+=(--include-typedef "$t")
done
for c in MPI_SUCCESS MPI_THREAD_SINGLE MPI_THREAD_FUNNELED MPI_THREAD_SERIALIZED MPI_THREAD_MULTIPLE; do
    mpi_args+=(--include-constant "$c")
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf bindings/io/dcls4j/ffi/mpi bindings/io/dcls4j/ffi/nccl
"$JEXTRACT" --target-package io.dcls4j.ffi.mpi --header-class-name mpi_h --output bindings "${mpi_args[@]}" "$MPI_H"
# The hash of the header the bindings came from: Open MPI's ABI is stable within libmpi.so.40, and the test
# says when the installed header is another one (regenerate then, and read the diff).
(cd "$(dirname "$MPI_H")" && sha256sum mpi.h) > bindings/mpi.h.sha256
echo "regenerate-dist-bindings: $MPI_H -> io.dcls4j.ffi.mpi.mpi_h"

# Everything dcls_nccl.h declares itself (jextract --dump-includes, filtered to it), not <stddef.h>'s symbols.
nccl_h=$(pwd)/native/dist/dcls_nccl.h
"$JEXTRACT" --dump-includes "$work/nccl.all" "$nccl_h" >/dev/null
# shellcheck disable=SC2046
"$JEXTRACT" --target-package io.dcls4j.ffi.nccl --header-class-name nccl_h --output bindings \
    $(grep -F "# header: $nccl_h" "$work/nccl.all" | awk '{print $1, $2}' | sort) "$nccl_h"
sha256sum native/dist/dcls_nccl.h > bindings/dcls_nccl.h.sha256
echo "regenerate-dist-bindings: native/dist/dcls_nccl.h -> io.dcls4j.ffi.nccl.nccl_h"
