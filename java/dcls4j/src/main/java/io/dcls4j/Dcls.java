package io.dcls4j;

import io.dcls4j.ffi.dcls_h;
import io.dcls4j.internal.CudaContext;
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

    /**
     * Sets which engine CPU convolution plans created from now on use where dcls4j has a choice
     * (process-wide; by default each plan picks per shape, and the environment variables
     * DCLS_DFT_CONV, DCLS_DEPTHWISE_CONV, DCLS_DEPTHWISE_BACKWARD_WEIGHTS, DCLS_DENSE_BACKWARD_WEIGHTS
     * give the starting values). For measurements and tests:
     * <ul>
     *   <li>{@code "dft_conv"}: {@code "auto"}, {@code "never"} or {@code "always"}: dense stride-1
     *       convolutions through DFTs;
     *   <li>{@code "depthwise_conv"}, {@code "depthwise_backward_weights"}: {@code "auto"} or
     *       {@code "never"}: dcls4j's depthwise kernels;
     *   <li>{@code "dense_backward_weights"}: {@code "auto"}, {@code "never"} or {@code "always"};
     *   <li>{@code "sparse_conv"}: {@code "auto"}, {@code "never"} or {@code "always"}: the tap-sparse
     *       convolution on a layer's kernel cells, chosen again whenever the cells are set (each
     *       training step). Unlike the others it also applies on CUDA devices, whose plans have a
     *       tap-sparse engine of their own: every device's context, now and to come, takes it.
     * </ul>
     * {@code "never"} for all four leaves oneDNN's convolution alone. Existing plans (and layers'
     * cached ones) keep their engines. An unknown name or value gives {@link DclsException}.
     */
    public static void setEngineOption(String name, String value) {
        if (name == null || value == null) {
            throw new IllegalArgumentException("engine option name and value must not be null");
        }
        Native.ensureLoaded();
        try (Arena arena = Arena.ofConfined()) {
            Native.check(dcls_h.dcls_set_engine_option(arena.allocateFrom(name), arena.allocateFrom(value)));
        }
        if (name.equals("sparse_conv")) { // the value was checked by the CPU library
            CudaContext.setSparseModeOfAll(switch (value) {
                case "never" -> dcls_h.DCLS_CUDA_SPARSE_NEVER();
                case "always" -> dcls_h.DCLS_CUDA_SPARSE_ALWAYS();
                default -> dcls_h.DCLS_CUDA_SPARSE_AUTO();
            });
        }
    }

    /** The folder the native libraries were loaded from. */
    public static String libraryLocation() {
        return String.valueOf(NativeLibrary.load());
    }
}
