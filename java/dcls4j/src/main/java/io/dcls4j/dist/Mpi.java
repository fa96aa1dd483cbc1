package io.dcls4j.dist;

import io.dcls4j.ffi.mpi.mpi_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Open MPI's predefined handles and its error messages, for the generated bindings (io.dcls4j.ffi.mpi.mpi_h).
 * In Open MPI, {@code MPI_COMM_WORLD}, {@code MPI_FLOAT}, {@code MPI_BYTE}, {@code MPI_SUM} and
 * {@code MPI_ERRORS_RETURN} are macros taking the address of a global object of an opaque type
 * ({@code &ompi_mpi_comm_world}, ...), which jextract cannot bind: this class takes the same addresses from the
 * loaded library. {@code MPI_IN_PLACE} is {@code (void *) 1} and {@code MPI_STATUS_IGNORE} {@code (MPI_Status *) 0}
 * in mpi.h. Loading this class loads libmpi ({@link MpiLibrary}).
 */
final class Mpi {
    static {
        MpiLibrary.load();
    }

    private static final SymbolLookup LIBRARY = SymbolLookup.loaderLookup();

    static final MemorySegment COMM_WORLD = global("ompi_mpi_comm_world");
    static final MemorySegment FLOAT = global("ompi_mpi_float");
    static final MemorySegment BYTE = global("ompi_mpi_byte");
    static final MemorySegment SUM = global("ompi_mpi_op_sum");
    static final MemorySegment ERRORS_RETURN = global("ompi_mpi_errors_return");
    static final MemorySegment IN_PLACE = MemorySegment.ofAddress(1);
    static final MemorySegment STATUS_IGNORE = MemorySegment.NULL;
    /** mpi.h's MPI_MAX_ERROR_STRING (OPAL_MAX_ERROR_STRING). */
    static final int MAX_ERROR_STRING = 256;

    private static final MemorySegment ERROR_TEXT = Arena.global().allocate(MAX_ERROR_STRING + 1);
    private static final MemorySegment ERROR_LENGTH = Arena.global().allocate(ValueLayout.JAVA_INT);

    private Mpi() {}

    private static MemorySegment global(String symbol) {
        return LIBRARY.find(symbol).orElseThrow(() -> new DistributedException(-1, -1, 0,
                "the loaded " + MpiLibrary.NAME + " has no " + symbol + ": not Open MPI?"));
    }

    /** MPI's own message for {@code code} (MPI_Error_string), e.g. "MPI_ERR_TRUNCATE: message truncated". */
    static synchronized String errorString(int code) {
        if (mpi_h.MPI_Error_string(code, ERROR_TEXT, ERROR_LENGTH) != mpi_h.MPI_SUCCESS()) {
            return "MPI error " + code;
        }
        int n = Math.clamp(ERROR_LENGTH.get(ValueLayout.JAVA_INT, 0), 0, MAX_ERROR_STRING);
        return new String(ERROR_TEXT.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }
}
