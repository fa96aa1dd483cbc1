package io.dcls4j.nn;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Where a dilated convolution's weights sit in its spread kernel ({@link Conv}): weights (pairs, k...) and the
 * spread kernel (pairs, s...), {@code s[d] = (k[d] - 1) * dilation[d] + 1}, both row-major; weight (p, j...) is at
 * cell (p, j[d] * dilation[d]...), a tap, and the cells between the taps, the gaps, are zero. {@link NnOps#kernelSpread}
 * and {@link NnOps#kernelGatherAdd} move values between the two. Made once per layer: the sizes are kept padded to
 * three axes for the host's loops and, in the layer's arena, as the native arrays dcls_cuda_kernel_spread takes, so
 * that a step computes no index array and allocates nothing.
 */
final class KernelSpread {
    /** Output channels times input channels per group. */
    final long pairs;
    final int ndim;
    /** Weights and spread cells per pair. */
    final long taps;
    final long cells;
    /** Three axes (1 beyond ndim): the taps per axis, and the distance in cells between two taps of an axis. */
    final int[] kernel3 = {1, 1, 1};
    final long[] tapStride3 = {0, 0, 0};
    /** ndim int64s each, in native memory: the kernel sizes and the dilation. */
    final MemorySegment nativeKernel;
    final MemorySegment nativeDilation;

    /** {@code kernel} and {@code dilation}: one entry per axis, checked by the layer. */
    KernelSpread(long pairs, int[] kernel, int[] dilation, Arena arena) {
        this.pairs = pairs;
        this.ndim = kernel.length;
        long t = 1;
        long c = 1;
        for (int d = ndim - 1; d >= 0; d--) {
            kernel3[d] = kernel[d];
            tapStride3[d] = dilation[d] * c;
            t *= kernel[d];
            c *= (long) (kernel[d] - 1) * dilation[d] + 1;
        }
        this.taps = t;
        this.cells = c;
        this.nativeKernel = arena.allocate(ValueLayout.JAVA_LONG, ndim);
        this.nativeDilation = arena.allocate(ValueLayout.JAVA_LONG, ndim);
        for (int d = 0; d < ndim; d++) {
            nativeKernel.setAtIndex(ValueLayout.JAVA_LONG, d, kernel[d]);
            nativeDilation.setAtIndex(ValueLayout.JAVA_LONG, d, dilation[d]);
        }
    }
}
