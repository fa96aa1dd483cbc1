package io.dcls4j.ops;

import io.dcls4j.Backend;
import io.dcls4j.Device;
import io.dcls4j.Tensor;
import io.dcls4j.internal.ConstructDesc;
import io.dcls4j.internal.DeviceOps;
import io.dcls4j.internal.Native;
import io.dcls4j.internal.Shapes;
import io.dcls4j.vector.VectorConstruct;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * DCLS kernel construction, forward and backward, in native code (or in pure Java, {@link Backend#VECTOR_API}):
 * the functional op under {@code DclsConv}, for users who bring their own autograd.
 *
 * <p>Shapes (C order, float32): weight (Cout, Cin/g, K), positions and sigma (ndim, Cout, Cin/g, K),
 * kernel (Cout, Cin/g, dilatedKernelSize...). A call runs where its tensors are, on the CPU or a CUDA
 * device (all of them on one). Every tensor is checked before the native call.
 * An instance is immutable and may be shared between threads.
 */
public final class KernelConstruction {
    private final ConstructConfig config;
    private final Backend backend;
    private final ConstructDesc desc;
    private final long[] weightShape;
    private final long[] positionShape;
    private final long[] kernelShape;

    /** The native construction ({@link Backend#NATIVE}). */
    public KernelConstruction(ConstructConfig config) {
        this(config, Backend.NATIVE);
    }

    /**
     * The construction of {@code backend}. {@link Backend#VECTOR_API} runs on the CPU only, needs the Vector API
     * ({@link IllegalStateException} without it) and knows the usual Gaussian only ({@link IllegalArgumentException}
     * for the Dcls2_1d reference's sigma offset).
     */
    public KernelConstruction(ConstructConfig config, Backend backend) {
        if (config == null || backend == null) {
            throw new IllegalArgumentException("config and backend must not be null");
        }
        if (backend == Backend.NATIVE) {
            Native.ensureLoaded();
        } else {
            DeviceOps.of(Device.cpu(), backend);  // says now when the JVM lacks the Vector API
            VectorConstruct.requireUsualGaussianOffset(config);
        }
        this.config = config;
        this.backend = backend;
        desc = ConstructDesc.of(Arena.ofAuto(), config);
        weightShape = config.weightShape();
        positionShape = config.positionShape();
        kernelShape = config.kernelShape();
    }

    public ConstructConfig config() {
        return config;
    }

    /** Which implementation runs the construction. */
    public Backend backend() {
        return backend;
    }

    /** Shape of the weight: (Cout, Cin/g, K). */
    public long[] weightShape() {
        return weightShape.clone();
    }

    /** Shape of the positions and of sigma: (ndim, Cout, Cin/g, K). */
    public long[] positionShape() {
        return positionShape.clone();
    }

    /** Shape of the dense kernel: (Cout, Cin/g, dilatedKernelSize...). */
    public long[] kernelShape() {
        return kernelShape.clone();
    }

    /** kernel = construct(weight, positions, sigma); sigma is null for interpolations without one. */
    public void forward(Tensor weight, Tensor positions, Tensor sigma, Tensor kernel) {
        Device device = deviceOf(weight);
        checkInputs(device, weight, positions, sigma);
        Shapes.requireOn("kernel", kernel, kernelShape, device);
        ops(device).constructForward(desc, weight.nativeAddress(), positions.nativeAddress(),
                addressOrNull(sigma), kernel.nativeAddress());
    }

    /**
     * Gradients of {@code sum(kernel * gradKernel)}: added to gradWeight, gradPositions, gradSigma when
     * {@code accumulate}, written otherwise. Any gradient may be null to skip it; gradSigma must be null
     * for interpolations without sigma.
     */
    public void backward(Tensor weight, Tensor positions, Tensor sigma, Tensor gradKernel,
                         Tensor gradWeight, Tensor gradPositions, Tensor gradSigma, boolean accumulate) {
        Device device = deviceOf(weight);
        checkInputs(device, weight, positions, sigma);
        Shapes.requireOn("gradKernel", gradKernel, kernelShape, device);
        Shapes.requireOptionalOn("gradWeight", gradWeight, weightShape, device);
        Shapes.requireOptionalOn("gradPositions", gradPositions, positionShape, device);
        if (config.interpolation().learnsSigma()) {
            Shapes.requireOptionalOn("gradSigma", gradSigma, positionShape, device);
        } else if (gradSigma != null) {
            throw new IllegalArgumentException("gradSigma must be null: " + config.interpolation() + " has no sigma");
        }
        ops(device).constructBackward(desc, weight.nativeAddress(), positions.nativeAddress(),
                addressOrNull(sigma), gradKernel.nativeAddress(), addressOrNull(gradWeight),
                addressOrNull(gradPositions), addressOrNull(gradSigma), accumulate);
    }

    /**
     * Sets {@code window} to the box of kernel cells the construction can touch with these positions
     * (and sigma): outside it the kernel is 0 and {@link #backward} reads no gradient. For a Gaussian,
     * cells below 1e-45 of its peak count as 0 (they are flushed to 0 in float). On a CUDA device the
     * positions are copied to the host for it (the call waits for the device's work enqueued before it).
     * Allocates nothing.
     */
    public void window(Tensor positions, Tensor sigma, KernelWindow window) {
        Device device = deviceOf(positions);
        checkPositions(device, positions, sigma);
        KernelWindow.requireAxes(window, config.ndim());
        ops(device).constructWindow(desc, positions.nativeAddress(), addressOrNull(sigma),
                window.lowerBounds(), window.upperBounds());
    }

    /** The construction's descriptor, for {@link Convolution#setKernelCells}. */
    ConstructDesc descriptor() {
        return desc;
    }

    /** The calls of this construction's backend on {@code device}. */
    private DeviceOps ops(Device device) {
        return DeviceOps.of(device, backend);
    }

    private void checkInputs(Device device, Tensor weight, Tensor positions, Tensor sigma) {
        Shapes.requireOn("weight", weight, weightShape, device);
        checkPositions(device, positions, sigma);
    }

    void checkPositions(Device device, Tensor positions, Tensor sigma) {
        Shapes.requireOn("positions", positions, positionShape, device);
        if (config.interpolation().learnsSigma()) {
            Shapes.requireOn("sigma", sigma, positionShape, device);
        } else if (sigma != null) {
            throw new IllegalArgumentException("sigma must be null: " + config.interpolation() + " has no sigma");
        }
    }

    /** The device a call runs on: its first tensor's (null is reported by the shape checks). */
    static Device deviceOf(Tensor first) {
        return first == null ? Device.cpu() : first.device();
    }

    static MemorySegment addressOrNull(Tensor t) {
        return t == null ? MemorySegment.NULL : t.nativeAddress();
    }
}
