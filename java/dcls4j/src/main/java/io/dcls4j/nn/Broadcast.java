package io.dcls4j.nn;

import io.dcls4j.Tensor;
import io.dcls4j.ffi.dcls_nn_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Plans of the element-wise ops (dcls_binary_*, dcls_sum_*), for the layers made of them. */
final class Broadcast {
    private Broadcast() {}

    /** c = a op b, b of {@code bShape} broadcast over a's {@code aShape}. */
    static NativePlan binary(int op, long[] aShape, long[] bShape) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocateFrom(ValueLayout.JAVA_LONG, aShape);
            MemorySegment b = arena.allocateFrom(ValueLayout.JAVA_LONG, bShape);
            return new NativePlan(p -> dcls_nn_h.dcls_binary_plan_create(op, aShape.length, a, b, p),
                    dcls_nn_h::dcls_binary_plan_destroy);
        }
    }

    static NativePlan add(long[] shape) {
        return binary(dcls_nn_h.DCLS_BINARY_ADD(), shape, shape);
    }

    static NativePlan mul(long[] aShape, long[] bShape) {
        return binary(dcls_nn_h.DCLS_BINARY_MUL(), aShape, bShape);
    }

    /** dst = sum of src over the axes where dstShape is 1. */
    static NativePlan sum(long[] srcShape, long[] dstShape) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocateFrom(ValueLayout.JAVA_LONG, srcShape);
            MemorySegment d = arena.allocateFrom(ValueLayout.JAVA_LONG, dstShape);
            return new NativePlan(p -> dcls_nn_h.dcls_sum_plan_create(srcShape.length, s, d, p),
                    dcls_nn_h::dcls_sum_plan_destroy);
        }
    }

    static void execute(NativePlan plan, Tensor a, Tensor b, Tensor c) {
        NnNative.check(dcls_nn_h.dcls_binary_execute(plan.get(), a.segment(), b.segment(), c.segment()));
    }

    static void sum(NativePlan plan, Tensor src, Tensor dst, boolean accumulate) {
        NnNative.check(dcls_nn_h.dcls_sum_execute(plan.get(), src.segment(), dst.segment(), accumulate ? 1 : 0));
    }

    /** (1, C, 1, ...) of the rank of {@code shape}: a per-channel tensor's broadcast shape. */
    static long[] perChannel(long[] shape) {
        long[] s = new long[shape.length];
        java.util.Arrays.fill(s, 1);
        s[1] = shape[1];
        return s;
    }

    /** (N, 1, 1, ...): a per-sample tensor's broadcast shape. */
    static long[] perSample(long[] shape) {
        long[] s = new long[shape.length];
        java.util.Arrays.fill(s, 1);
        s[0] = shape[0];
        return s;
    }
}
