package io.dcls4j.ops;

import io.dcls4j.Tensor;
import io.dcls4j.ffi.dcls_h;
import io.dcls4j.internal.Descriptors;
import io.dcls4j.internal.Native;
import io.dcls4j.internal.Shapes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * DCLS kernel construction, forward and backward, in native code: the functional op under
 * {@code DclsConv}, for users who bring their own autograd.
 *
 * <p>Shapes (C order, float32): weight (Cout, Cin/g, K), positions and sigma (ndim, Cout, Cin/g, K),
 * kernel (Cout, Cin/g, dilatedKernelSize...). Every tensor is checked before the native call.
 * An instance is immutable and may be shared between threads.
 */
public final class KernelConstruction {
    private final ConstructConfig config;
    private final MemorySegment desc;
    private final long[] weightShape;
    private final long[] positionShape;
    private final long[] kernelShape;

    public KernelConstruction(ConstructConfig config) {
        Native.ensureLoaded();
        this.config = config;
        desc = Descriptors.construct(Arena.ofAuto(), config);
        weightShape = config.weightShape();
        positionShape = config.positionShape();
        kernelShape = config.kernelShape();
    }

    public ConstructConfig config() {
        return config;
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
        checkInputs(weight, positions, sigma);
        Shapes.require("kernel", kernel, kernelShape);
        Native.check(dcls_h.dcls_construct_forward(desc, weight.segment(), positions.segment(),
                Native.segmentOrNull(sigma), kernel.segment()));
    }

    /**
     * Gradients of {@code sum(kernel * gradKernel)}: added to gradWeight, gradPositions, gradSigma when
     * {@code accumulate}, written otherwise. Any gradient may be null to skip it; gradSigma must be null
     * for interpolations without sigma.
     */
    public void backward(Tensor weight, Tensor positions, Tensor sigma, Tensor gradKernel,
                         Tensor gradWeight, Tensor gradPositions, Tensor gradSigma, boolean accumulate) {
        checkInputs(weight, positions, sigma);
        Shapes.require("gradKernel", gradKernel, kernelShape);
        Shapes.requireOptional("gradWeight", gradWeight, weightShape);
        Shapes.requireOptional("gradPositions", gradPositions, positionShape);
        if (config.interpolation().learnsSigma()) {
            Shapes.requireOptional("gradSigma", gradSigma, positionShape);
        } else if (gradSigma != null) {
            throw new IllegalArgumentException("gradSigma must be null: " + config.interpolation() + " has no sigma");
        }
        Native.check(dcls_h.dcls_construct_backward(desc, weight.segment(), positions.segment(),
                Native.segmentOrNull(sigma), gradKernel.segment(), Native.segmentOrNull(gradWeight),
                Native.segmentOrNull(gradPositions), Native.segmentOrNull(gradSigma), accumulate ? 1 : 0));
    }

    /**
     * Sets {@code window} to the box of kernel cells the construction can touch with these positions
     * (and sigma): outside it the kernel is 0 and {@link #backward} reads no gradient. For a Gaussian,
     * cells below 1e-45 of its peak count as 0 (they are flushed to 0 in float). Allocates nothing.
     */
    public void window(Tensor positions, Tensor sigma, KernelWindow window) {
        checkPositions(positions, sigma);
        KernelWindow.requireAxes(window, config.ndim());
        Native.check(dcls_h.dcls_construct_kernel_window(desc, positions.segment(), Native.segmentOrNull(sigma),
                window.lowerBounds(), window.upperBounds()));
    }

    /** The native construction descriptor, for {@link Convolution#setKernelCells}. */
    MemorySegment descriptor() {
        return desc;
    }

    private void checkInputs(Tensor weight, Tensor positions, Tensor sigma) {
        Shapes.require("weight", weight, weightShape);
        checkPositions(positions, sigma);
    }

    void checkPositions(Tensor positions, Tensor sigma) {
        Shapes.require("positions", positions, positionShape);
        if (config.interpolation().learnsSigma()) {
            Shapes.require("sigma", sigma, positionShape);
        } else if (sigma != null) {
            throw new IllegalArgumentException("sigma must be null: " + config.interpolation() + " has no sigma");
        }
    }
}
