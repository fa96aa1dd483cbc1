package io.dcls4j.ops;

import io.dcls4j.Tensor;
import io.dcls4j.ffi.dcls_h;
import io.dcls4j.internal.Descriptors;
import io.dcls4j.internal.Native;
import io.dcls4j.internal.MemoryBudget;
import io.dcls4j.internal.Shapes;
import io.dcls4j.internal.UseGuard;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A native convolution plan (oneDNN) for one shape: forward, backward-data, backward-weights and
 * bias. Creating it builds and caches the primitives; every call after that only executes them.
 *
 * <p>Shapes (C order, float32): x (N, Cin, in...), kernel (Cout, Cin/g, k...), bias (Cout),
 * y (N, Cout, out...). A plan holds scratch memory: it may be used by one thread at a time, and a
 * call while another thread is inside gets an {@link IllegalStateException} (different plans run in
 * parallel). Close it to free the native memory.
 */
public final class Convolution implements AutoCloseable {
    private final ConvConfig config;
    private final long[] inputShape;
    private final long[] kernelShape;
    private final long[] outputShape;
    private final long[] biasShape;
    private final int[] kernelSize;  // config.kernelSize() copies: kept for the allocation-free checks
    private MemorySegment plan;
    private final UseGuard guard = new UseGuard();

    public Convolution(ConvConfig config) {
        Native.ensureLoaded();
        MemoryBudget.require("a convolution plan for " + config, MemoryBudget.convolutionBytes(config));
        this.config = config;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment desc = Descriptors.conv(arena, config);
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(dcls_h.dcls_conv_plan_create(desc, out));
            plan = out.get(ValueLayout.ADDRESS, 0);
        }
        inputShape = config.inputShape();
        outputShape = config.outputShape();
        kernelShape = config.kernelShape();
        biasShape = new long[] {config.outChannels()};
        kernelSize = config.kernelSize();
    }

    public ConvConfig config() {
        return config;
    }

    public long[] inputShape() {
        return inputShape.clone();
    }

    public long[] outputShape() {
        return outputShape.clone();
    }

    public long[] kernelShape() {
        return kernelShape.clone();
    }

    /** y = conv(x, kernel) + bias; bias may be null. */
    public void forward(Tensor x, Tensor kernel, Tensor bias, Tensor y) {
        boolean entered = guard.enter(this);
        try {
            forwardInUse(x, kernel, bias, y);
        } finally {
            guard.exit(entered);
        }
    }

    private void forwardInUse(Tensor x, Tensor kernel, Tensor bias, Tensor y) {
        MemorySegment p = plan();
        Shapes.require("x", x, inputShape);
        Shapes.require("kernel", kernel, kernelShape);
        Shapes.requireOptional("bias", bias, biasShape);
        Shapes.require("y", y, outputShape);
        Native.check(dcls_h.dcls_conv_forward(p, x.segment(), kernel.segment(), Native.segmentOrNull(bias),
                y.segment()));
    }

    /** gradX = gradient of sum(y * gradY) with respect to x; overwritten. */
    public void backwardData(Tensor gradY, Tensor kernel, Tensor gradX) {
        boolean entered = guard.enter(this);
        try {
            backwardDataInUse(gradY, kernel, gradX);
        } finally {
            guard.exit(entered);
        }
    }

    private void backwardDataInUse(Tensor gradY, Tensor kernel, Tensor gradX) {
        MemorySegment p = plan();
        Shapes.require("gradY", gradY, outputShape);
        Shapes.require("kernel", kernel, kernelShape);
        Shapes.require("gradX", gradX, inputShape);
        Native.check(dcls_h.dcls_conv_backward_data(p, gradY.segment(), kernel.segment(), gradX.segment()));
    }

    /**
     * Gradients of sum(y * gradY) with respect to the kernel and the bias (gradBias may be null):
     * added to them when {@code accumulate}, written otherwise.
     */
    public void backwardWeights(Tensor x, Tensor gradY, Tensor gradKernel, Tensor gradBias, boolean accumulate) {
        boolean entered = guard.enter(this);
        try {
            backwardWeightsInUse(x, gradY, gradKernel, gradBias, accumulate);
        } finally {
            guard.exit(entered);
        }
    }

    private void backwardWeightsInUse(Tensor x, Tensor gradY, Tensor gradKernel, Tensor gradBias, boolean accumulate) {
        MemorySegment p = plan();
        Shapes.require("x", x, inputShape);
        Shapes.require("gradY", gradY, outputShape);
        Shapes.require("gradKernel", gradKernel, kernelShape);
        Shapes.requireOptional("gradBias", gradBias, biasShape);
        Native.check(dcls_h.dcls_conv_backward_weights(p, x.segment(), gradY.segment(), gradKernel.segment(),
                Native.segmentOrNull(gradBias), accumulate ? 1 : 0));
    }

    /**
     * Declares that the kernels given from now on are 0 outside {@code window}; where the box is
     * small enough to pay, every pass then convolves with just that part. {@link #backwardWeights}
     * then computes the kernel gradient inside the box only: cells outside hold 0 or their true
     * gradient (or, accumulating, keep their value or get it added). A window of the whole kernel
     * restores the default. Checked against the kernel size; allocates nothing.
     */
    public void setKernelWindow(KernelWindow window) {
        boolean entered = guard.enter(this);
        try {
            setKernelWindowInUse(window);
        } finally {
            guard.exit(entered);
        }
    }

    private void setKernelWindowInUse(KernelWindow window) {
        MemorySegment p = plan();
        int[] k = kernelSize;
        KernelWindow.requireAxes(window, k.length);
        for (int d = 0; d < k.length; d++) {
            long lo = window.lo(d);
            long hi = window.hi(d);
            if (lo < 0 || lo >= hi || hi > k[d]) {
                throw new IllegalArgumentException("kernel window [" + lo + ", " + hi + ") of axis " + d
                        + " is not a non-empty part of [0, " + k[d] + ")");
            }
        }
        Native.check(dcls_h.dcls_conv_plan_set_kernel_window(p, window.lowerBounds(), window.upperBounds()));
    }

    /**
     * Declares that the kernels given from now on are made by {@code construction} from these positions (and
     * sigma), for any weight: the plan takes, per (out, in/groups) pair, the kernel cells the construction can make
     * non-zero (with {@code gradient}, also those whose gradient its backward reads), uses their box as
     * {@link #setKernelWindow} would, and runs the tap-sparse convolution on just those cells for each pass where its
     * cost model expects that to be faster (engine option {@code sparse_conv}; {@link #engineInfo()} says which).
     * {@link #backwardWeights} is then exact at those cells (outside them, as with a window). Call it whenever the
     * positions or sigma change. The construction's kernel must be this plan's kernel (Cout, Cin/groups, kernel
     * size). Allocates nothing after the first call with a given construction.
     */
    public void setKernelCells(KernelConstruction construction, Tensor positions, Tensor sigma, boolean gradient) {
        boolean entered = guard.enter(this);
        try {
            MemorySegment p = plan();
            if (construction != cellsConstruction) {
                requireSameKernel(construction);
                cellsConstruction = construction;
            }
            construction.checkPositions(positions, sigma);
            Native.check(dcls_h.dcls_conv_plan_set_kernel_cells(p, construction.descriptor(), positions.segment(),
                    Native.segmentOrNull(sigma), gradient ? 1 : 0));
        } finally {
            guard.exit(entered);
        }
    }

    /** The last construction {@link #setKernelCells} checked against this plan's kernel. */
    private KernelConstruction cellsConstruction;

    private void requireSameKernel(KernelConstruction construction) {
        if (construction == null) {
            throw new IllegalArgumentException("construction is null");
        }
        long[] made = construction.kernelShape();
        if (!java.util.Arrays.equals(made, kernelShape)) {
            throw new IllegalArgumentException("the construction makes kernels of shape "
                    + java.util.Arrays.toString(made) + ", this plan convolves with "
                    + java.util.Arrays.toString(kernelShape));
        }
    }

    /**
     * Which engine runs each pass now: {@code "forward=E backward_data=E backward_weights=E"}, where E is
     * {@code onednn:} and oneDNN's implementation name, or {@code dcls:} and one of dcls4j's engines
     * ({@code dcls:window(5x5)>} and the box's engine when a kernel window is in force). For tests, logs and
     * benchmarks: which engine applies depends on the shape, the engine options and the kernel window.
     */
    public String engineInfo() {
        MemorySegment p = plan();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(dcls_h.dcls_conv_plan_info(p, out));
            return Native.cString(out.get(ValueLayout.ADDRESS, 0));
        }
    }

    private MemorySegment plan() {
        MemorySegment p = plan;
        if (p == null) {
            throw new IllegalStateException("convolution plan is closed");
        }
        return p;
    }

    /** Frees the native plan; later calls throw {@link IllegalStateException}. Idempotent. */
    @Override
    public void close() {
        boolean entered = guard.enter(this);
        try {
            MemorySegment p = plan;
            if (p != null) {
                plan = null;
                Native.check(dcls_h.dcls_conv_plan_destroy(p));
            }
        } finally {
            guard.exit(entered);
        }
    }

    @Override
    public String toString() {
        return "Convolution" + config;
    }

}
