package io.dcls4j;

import io.dcls4j.ffi.dcls_h;
import io.dcls4j.internal.Native;
import io.dcls4j.internal.NativeLibrary;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Facts about the native core and its process-wide settings. */
public final class Dcls {
    private Dcls() {}

    /** dcls4j's native library version. */
    public static String nativeVersion() {
        Native.ensureLoaded();
        return Native.cString(dcls_h.dcls_version());
    }

    /** The oneDNN version in use, as "major.minor.patch". */
    public static String oneDnnVersion() {
        Native.ensureLoaded();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_INT, 3);
            Native.check(dcls_h.dcls_onednn_version(v, v.asSlice(4), v.asSlice(8)));
            return v.getAtIndex(ValueLayout.JAVA_INT, 0) + "." + v.getAtIndex(ValueLayout.JAVA_INT, 1) + "."
                    + v.getAtIndex(ValueLayout.JAVA_INT, 2);
        }
    }

    /** The CPU instruction set oneDNN dispatches to, e.g. "avx512_core". */
    public static String cpuIsa() {
        Native.ensureLoaded();
        return Native.cString(dcls_h.dcls_cpu_isa());
    }

    /** Threads used by the native core (OpenMP, shared with oneDNN). */
    public static int numThreads() {
        Native.ensureLoaded();
        return dcls_h.dcls_get_num_threads();
    }

    /** Sets the native core's thread count; 0 restores the default (all cores). */
    public static void setNumThreads(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        }
        Native.ensureLoaded();
        Native.check(dcls_h.dcls_set_num_threads(threads));
    }

    /** The folder the native libraries were loaded from. */
    public static String libraryLocation() {
        return String.valueOf(NativeLibrary.load());
    }
}
