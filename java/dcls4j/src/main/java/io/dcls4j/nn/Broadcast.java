package io.dcls4j.nn;

import io.dcls4j.ffi.dcls_nn_h;

import java.util.Arrays;

/** Plans of the element-wise ops (binary ops and sums of {@link NnOps}), for the layers made of them. */
final class Broadcast {
    private Broadcast() {}

    /** c = a + b, both of {@code shape}. */
    static NativePlan add(NnOps ops, long[] shape) {
        return ops.binary(dcls_nn_h.DCLS_BINARY_ADD(), shape, shape);
    }

    /** c = a * b, b of {@code bShape} broadcast over a's {@code aShape}. */
    static NativePlan mul(NnOps ops, long[] aShape, long[] bShape) {
        return ops.binary(dcls_nn_h.DCLS_BINARY_MUL(), aShape, bShape);
    }

    /** (1, C, 1, ...) of the rank of {@code shape}: a per-channel tensor's broadcast shape. */
    static long[] perChannel(long[] shape) {
        long[] s = new long[shape.length];
        Arrays.fill(s, 1);
        s[1] = shape[1];
        return s;
    }

    /** (N, 1, 1, ...): a per-sample tensor's broadcast shape. */
    static long[] perSample(long[] shape) {
        long[] s = new long[shape.length];
        Arrays.fill(s, 1);
        s[0] = shape[0];
        return s;
    }
}
