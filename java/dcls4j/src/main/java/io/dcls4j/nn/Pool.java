package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Tensor;
import io.dcls4j.ffi.dcls_pool_desc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Pooling on (N, C, spatial...), oneDNN's pooling on the CPU and dcls4j's kernels on CUDA ({@link NnOps}):
 * {@link MaxPool}, {@link AvgPool} (torch's count_include_pad=True) and {@link GlobalAvgPool}. Output sizes floor, as
 * torch's ceil_mode=False.
 */
public abstract sealed class Pool extends Layer<Pool.PoolState> permits MaxPool, AvgPool, GlobalAvgPool {
    private final int kind;
    private final int[] kernel;
    private final int[] stride;
    private final int[] padding;

    /** kernel null: the whole input (global pooling). */
    Pool(int kind, int[] kernel, int[] stride, int[] padding, Device device) {
        super(device);
        this.kind = kind;
        if (kernel != null) {
            requireSizes("kernel", kernel, 1);
            requireSizes("stride", stride, 1);
            requireSizes("padding", padding, 0);
            if (stride.length != kernel.length || padding.length != kernel.length) {
                throw new IllegalArgumentException(name() + ": kernel, stride and padding need one value per spatial"
                        + " axis, got " + Arrays.toString(kernel) + ", " + Arrays.toString(stride) + ", "
                        + Arrays.toString(padding));
            }
            for (int d = 0; d < kernel.length; d++) {
                if (2 * padding[d] > kernel[d]) {
                    throw new IllegalArgumentException(name() + ": padding should be at most half the kernel size,"
                            + " got padding " + padding[d] + " for kernel " + kernel[d]);
                }
            }
        }
        this.kernel = kernel == null ? null : kernel.clone();
        this.stride = stride == null ? null : stride.clone();
        this.padding = padding == null ? null : padding.clone();
    }

    private void requireSizes(String what, int[] v, int min) {
        if (v == null || v.length < 1 || v.length > 3) {
            throw new IllegalArgumentException(name() + ": " + what + " needs 1 to 3 values");
        }
        for (int x : v) {
            if (x < min) {
                throw new IllegalArgumentException(name() + ": " + what + " values must be >= " + min + ", got "
                        + Arrays.toString(v));
            }
        }
    }

    /** The output shape from the native plan's sizes (global pooling: (N, C)). */
    long[] outputShape(long[] shape, long[] outSize) {
        long[] out = shape.clone();
        for (int d = 2; d < shape.length; d++) {
            out[d] = outSize[d - 2];
        }
        return out;
    }

    @Override
    PoolState newState(long[] shape) {
        int ndim = shape.length - 2;
        if (ndim < 1 || ndim > 3 || (kernel != null && kernel.length != ndim)) {
            throw new IllegalArgumentException(name() + ": input has shape " + Arrays.toString(shape) + "; expected (N, C, "
                    + (kernel == null ? "1 to 3" : kernel.length) + " spatial sizes)");
        }
        int[] k = new int[ndim];
        int[] s = new int[ndim];
        int[] p = new int[ndim];
        for (int d = 0; d < ndim; d++) {
            k[d] = kernel == null ? Math.toIntExact(shape[2 + d]) : kernel[d];
            s[d] = kernel == null ? 1 : stride[d];
            p[d] = kernel == null ? 0 : padding[d];
            if (shape[2 + d] + 2L * p[d] < k[d]) {
                throw new IllegalArgumentException(name() + ": input " + Arrays.toString(shape) + " is smaller than the"
                        + " kernel " + Arrays.toString(k) + " (with padding " + Arrays.toString(p) + ")");
            }
        }
        return new PoolState(shape, k, s, p);
    }

    @Override
    public Tensor forward(Tensor x) {
        PoolState st = forwardState(x);
        ops().poolForward(st.plan, x, st.y);
        return st.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        PoolState st = backwardState(gradY);
        ops().poolBackward(st.plan, gradY, st.gradX);
        return st.gradX;
    }

    @Override
    public String toString() {
        return kernel == null ? name() + "()" : name() + "(kernel=" + Arrays.toString(kernel) + ", stride="
                + Arrays.toString(stride) + ", padding=" + Arrays.toString(padding) + ")";
    }

    final class PoolState extends Layer.State {
        final NativePlan plan;

        PoolState(long[] shape, int[] k, int[] s, int[] p) {
            this(shape, k, s, p, plan(shape, k, s, p));
        }

        private PoolState(long[] shape, int[] k, int[] s, int[] p, NativePlan plan) {
            super(device(), shape, outputShape(shape, ops().poolOutputSize(plan)));
            this.plan = own(plan);
        }
    }

    private NativePlan plan(long[] shape, int[] k, int[] s, int[] p) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = dcls_pool_desc.allocate(a);
            dcls_pool_desc.ndim(desc, k.length);
            dcls_pool_desc.kind(desc, kind);
            dcls_pool_desc.batch(desc, shape[0]);
            dcls_pool_desc.channels(desc, shape[1]);
            for (int d = 0; d < 3; d++) {
                boolean used = d < k.length;
                dcls_pool_desc.input_size(desc, d, used ? shape[2 + d] : 1);
                dcls_pool_desc.kernel_size(desc, d, used ? k[d] : 1);
                dcls_pool_desc.stride(desc, d, used ? s[d] : 1);
                dcls_pool_desc.padding(desc, d, used ? p[d] : 0);
            }
            return ops().pool(desc);
        }
    }
}
