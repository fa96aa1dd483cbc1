package io.dcls4j.ops;

import io.dcls4j.Backend;
import io.dcls4j.Device;
import io.dcls4j.Tensor;
import io.dcls4j.internal.DeviceOps;
import io.dcls4j.internal.HostPositions;
import io.dcls4j.internal.Native;
import io.dcls4j.internal.MemoryBudget;
import io.dcls4j.internal.Shapes;
import io.dcls4j.internal.UseGuard;

import java.lang.foreign.MemorySegment;

/**
 * A convolution plan for one shape on one device: forward, backward-data, backward-weights and
 * bias. Creating it builds and caches the primitives (oneDNN and dcls4j's engines on the CPU, cuDNN and
 * dcls4j's kernels on a CUDA device, or the pure-Java kernels of {@link Backend#VECTOR_API}); every call after
 * that only executes them.
 *
 * <p>Shapes (C order, float32): x (N, Cin, in...), kernel (Cout, Cin/g, k...), bias (Cout),
 * y (N, Cout, out...), every tensor on the plan's device. A plan holds scratch memory: it may be used by
 * one thread at a time, and a call while another thread is inside gets an {@link IllegalStateException}
 * (different plans run in parallel). Close it to free the native memory.
 */
public final class Convolution implements AutoCloseable {
    private final ConvConfig config;
    private final Device device;
    private final long[] inputShape;
    private final long[] kernelShape;
    private final long[] outputShape;
    private final long[] biasShape;
    private final int[] kernelSize;  // config.kernelSize() copies: kept for the allocation-free checks
    private final Backend backend;
    private DeviceOps.Plan plan;
    private final UseGuard guard = new UseGuard();

    /** A plan on the CPU. */
    public Convolution(ConvConfig config) {
        this(config, Device.cpu(), false);
    }

    /**
     * A plan on {@code device}. {@code cudaTf32}: whether cuDNN may use TF32 tensor cores (faster, about 1e-3
     * relative); ignored on the CPU. {@link io.dcls4j.DclsException} when CUDA or the device is missing.
     */
    public Convolution(ConvConfig config, Device device, boolean cudaTf32) {
        this(config, device, Backend.NATIVE, cudaTf32);
    }

    /**
     * A plan of {@code backend} on {@code device}: {@link IllegalArgumentException} where the backend does not run
     * there, {@link IllegalStateException} where the JVM lacks the Vector API ({@link Backend#VECTOR_API}).
     */
    public Convolution(ConvConfig config, Device device, Backend backend, boolean cudaTf32) {
        if (config == null || device == null) {
            throw new IllegalArgumentException("config and device must not be null");
        }
        DeviceOps ops = DeviceOps.of(device, backend);
        if (backend == Backend.NATIVE) {
            Native.ensureLoaded();
        }
        if (!device.isCuda()) {
            MemoryBudget.require("a convolution plan for " + config, MemoryBudget.convolutionBytes(config));
        }
        this.config = config;
        this.device = device;
        this.backend = backend;
        plan = ops.createPlan(config, cudaTf32);
        inputShape = config.inputShape();
        outputShape = config.outputShape();
        kernelShape = config.kernelShape();
        biasShape = new long[] {config.outChannels()};
        kernelSize = config.kernelSize();
    }

    /** Which implementation runs the plan. */
    public Backend backend() {
        return backend;
    }

    /** Where the plan runs and its tensors must be. */
    public Device device() {
        return device;
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
        DeviceOps.Plan p = plan();
        Shapes.requireOn("x", x, inputShape, device);
        Shapes.requireOn("kernel", kernel, kernelShape, device);
        Shapes.requireOptionalOn("bias", bias, biasShape, device);
        Shapes.requireOn("y", y, outputShape, device);
        p.forward(x.nativeAddress(), kernel.nativeAddress(), addressOrNull(bias), y.nativeAddress());
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
        DeviceOps.Plan p = plan();
        Shapes.requireOn("gradY", gradY, outputShape, device);
        Shapes.requireOn("kernel", kernel, kernelShape, device);
        Shapes.requireOn("gradX", gradX, inputShape, device);
        p.backwardData(gradY.nativeAddress(), kernel.nativeAddress(), gradX.nativeAddress());
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
        DeviceOps.Plan p = plan();
        Shapes.requireOn("x", x, inputShape, device);
        Shapes.requireOn("gradY", gradY, outputShape, device);
        Shapes.requireOn("gradKernel", gradKernel, kernelShape, device);
        Shapes.requireOptionalOn("gradBias", gradBias, biasShape, device);
        p.backwardWeights(x.nativeAddress(), gradY.nativeAddress(), gradKernel.nativeAddress(),
                addressOrNull(gradBias), accumulate);
    }

    /**
     * Both gradients in one call: {@link #backwardWeights} (kernel and bias, added when {@code accumulate}) and
     * {@link #backwardData} (gradX, overwritten), with their checks; a backend may read gradY once for both (the
     * pure-Java one does).
     */
    public void backward(Tensor x, Tensor gradY, Tensor kernel, Tensor gradKernel, Tensor gradBias,
                         boolean accumulate, Tensor gradX) {
        boolean entered = guard.enter(this);
        try {
            DeviceOps.Plan p = plan();
            Shapes.requireOn("x", x, inputShape, device);
            Shapes.requireOn("gradY", gradY, outputShape, device);
            Shapes.requireOn("kernel", kernel, kernelShape, device);
            Shapes.requireOn("gradKernel", gradKernel, kernelShape, device);
            Shapes.requireOptionalOn("gradBias", gradBias, biasShape, device);
            Shapes.requireOn("gradX", gradX, inputShape, device);
            p.backward(x.nativeAddress(), gradY.nativeAddress(), kernel.nativeAddress(), gradKernel.nativeAddress(),
                    addressOrNull(gradBias), accumulate, gradX.nativeAddress());
        } finally {
            guard.exit(entered);
        }
    }

    /**
     * Declares that the kernels given from now on are 0 outside {@code window}; where the box is
     * small enough to pay, every pass then convolves with just that part. {@link #backwardWeights}
     * then computes the kernel gradient inside the box only: cells outside hold 0 or their true
     * gradient (or, accumulating, keep their value or get it added). A window of the whole kernel
     * restores the default. Checked against the kernel size; allocates nothing. On a CUDA device the passes on
     * dcls4j's depthwise kernels and direct convolution take the window; those on cuDNN run on the whole kernel (and
     * compute the true gradient outside the box). The call ends any tap-sparse passes of {@link #setKernelCells}.
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
        DeviceOps.Plan p = plan();
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
        p.setKernelWindow(window.lowerBounds(), window.upperBounds());
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
     *
     * <p>On a CUDA device the positions (and sigma) are copied to the host, where the cells are listed, so the call
     * waits for the device's work enqueued before it; the CUDA tap-sparse engine then runs the passes the device's
     * sparse mode ({@code CudaContext#setSparseMode}, the counterpart of {@code sparse_conv}) and its cost model give
     * it ({@code dcls:sparse(... cells,cuda)} in {@link #engineInfo()}).
     *
     * @return whether the plan takes kernel cells: true on the CPU and on CUDA devices (a {@link Backend#VECTOR_API}
     *         plan computes the weight gradient at those cells only, and has no tap-sparse engine)
     */
    public boolean setKernelCells(KernelConstruction construction, Tensor positions, Tensor sigma, boolean gradient) {
        boolean entered = guard.enter(this);
        try {
            DeviceOps.Plan p = plan();
            if (construction != cellsConstruction) {
                requireSameKernel(construction);
                cellsConstruction = construction;
            }
            construction.checkPositions(device, positions, sigma);
            return p.setKernelCells(construction.descriptor(), positions.nativeAddress(), addressOrNull(sigma),
                    gradient);
        } finally {
            guard.exit(entered);
        }
    }

    static {
        HostPositions.register(Convolution::setKernelCellsFromHost);
    }

    /**
     * {@link #setKernelCells} with the positions and sigma in host memory (pinned or not), for a model that copied
     * them from the device once for all its layers (see {@link HostPositions}); not public API. False, having done
     * nothing, where the plan has no host entry (the caller then takes {@link #setKernelCells}).
     */
    private static boolean setKernelCellsFromHost(Convolution conv, KernelConstruction construction,
                                                  Tensor hostPositions, Tensor hostSigma, boolean gradient) {
        boolean entered = conv.guard.enter(conv);
        try {
            DeviceOps.Plan p = conv.plan();
            if (construction != conv.cellsConstruction) {
                conv.requireSameKernel(construction);
                conv.cellsConstruction = construction;
            }
            construction.checkPositions(Device.cpu(), hostPositions, hostSigma);
            return p.setKernelCellsFromHost(construction.descriptor(), hostPositions.nativeAddress(),
                    addressOrNull(hostSigma), gradient);
        } finally {
            conv.guard.exit(entered);
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
     * {@code onednn:} and oneDNN's implementation name ({@code cudnn:} and cuDNN's algorithm on a GPU), or
     * {@code dcls:} and one of dcls4j's engines
     * ({@code dcls:window(5x5)>} and the box's engine when a kernel window is in force). For tests, logs and
     * benchmarks: which engine applies depends on the shape, the engine options and the kernel window.
     */
    public String engineInfo() {
        return plan().info();
    }

    private DeviceOps.Plan plan() {
        DeviceOps.Plan p = plan;
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
            DeviceOps.Plan p = plan;
            if (p != null) {
                plan = null;
                p.destroy();
            }
        } finally {
            guard.exit(entered);
        }
    }

    @Override
    public String toString() {
        return "Convolution" + config + (device.isCuda() ? " on " + device : "");
    }

    private static MemorySegment addressOrNull(Tensor t) {
        return KernelConstruction.addressOrNull(t);
    }

}
