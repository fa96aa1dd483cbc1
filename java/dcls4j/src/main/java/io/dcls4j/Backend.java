package io.dcls4j;

/**
 * Which implementation runs a layer's (or an op's) kernel construction and convolution. Chosen per layer
 * ({@link LayerBuilder#backend}) or per op; the API, shapes and semantics are the same for each.
 */
public enum Backend {
    /**
     * dcls4j's native library: oneDNN and dcls4j's own engines on the CPU, cuDNN and dcls4j's CUDA kernels on a
     * CUDA device. The default, and the fast one.
     */
    NATIVE,
    /**
     * Pure Java (float32, the Vector API, every core), CPU only: for checking the native engines against an
     * independent implementation, and for platforms the native library does not cover. Needs the incubator module:
     * run the JVM with {@code --add-modules jdk.incubator.vector}, else choosing it throws
     * {@link IllegalStateException} saying so. Plans have no kernel windows and no tap-sparse engine; the weight
     * gradient is computed only at the cells the construction reads (see
     * {@link io.dcls4j.ops.Convolution#setKernelCells}).
     */
    VECTOR_API;

    /** Whether this backend can run on {@code device} (the Vector API backend runs on the CPU only). */
    public boolean supports(Device device) {
        return this == NATIVE || !device.isCuda();
    }
}
