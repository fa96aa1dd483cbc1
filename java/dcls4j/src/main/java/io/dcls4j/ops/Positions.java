package io.dcls4j.ops;

import io.dcls4j.Backend;
import io.dcls4j.Device;
import io.dcls4j.Interpolation;
import io.dcls4j.Tensor;
import io.dcls4j.internal.ConstructDesc;
import io.dcls4j.internal.DeviceOps;
import io.dcls4j.internal.Native;
import io.dcls4j.internal.Shapes;

import java.lang.foreign.Arena;

/**
 * The upkeep of DCLS positions, on the device where they are (CPU or CUDA): the clamp after an optimizer step,
 * and rounding to integers for inference. Positions have shape (ndim, ...): component d of every element, then
 * component d + 1. For one shape; immutable, allocation-free calls, shareable between threads.
 */
public final class Positions {
    private final int[] dilatedKernelSize;
    private final long[] shape;
    private final long count;
    private final ConstructDesc desc;
    private final Backend backend;

    /**
     * Positions of {@code shape} (its first axis: one per entry of {@code dilatedKernelSize}) for kernels of
     * {@code dilatedKernelSize} cells per axis.
     */
    public Positions(int[] dilatedKernelSize, long... shape) {
        this(Backend.NATIVE, dilatedKernelSize, shape);
    }

    /** As {@link #Positions(int[], long...)}, the calls running on {@code backend}. */
    public Positions(Backend backend, int[] dilatedKernelSize, long... shape) {
        if (backend == null) {
            throw new IllegalArgumentException("backend is null");
        }
        this.backend = backend;
        if (backend == Backend.NATIVE) {
            Native.ensureLoaded();
        }
        this.dilatedKernelSize = dilatedKernelSize.clone();
        this.shape = shape.clone();
        if (shape.length < 2 || shape[0] != dilatedKernelSize.length) {
            throw new IllegalArgumentException("positions need a shape (ndim, ...) with ndim = "
                    + dilatedKernelSize.length + " (the axes of dilatedKernelSize), got " + java.util.Arrays.toString(shape));
        }
        long n = 1;
        for (long s : shape) {
            n = Math.multiplyExact(n, s);
        }
        count = n;
        // The construction's descriptor over the same floats: one pair of (count / ndim) elements.
        ConstructConfig config = new ConstructConfig(Interpolation.BILINEAR, 1, 1,
                Math.toIntExact(count / dilatedKernelSize.length), this.dilatedKernelSize);
        desc = ConstructDesc.of(Arena.ofAuto(), config);
    }

    /**
     * Clamps each component d of {@code positions}, in place, into {@code [-(L / 2), L / 2]} with {@code L =
     * dilatedKernelSize[d]} and {@code L / 2} rounded down, as the reference's {@code clamp_parameters}; NaN stays
     * NaN.
     */
    public void clamp(Tensor positions) {
        Device device = KernelConstruction.deviceOf(positions);
        Shapes.requireOn("positions", positions, shape, device);
        DeviceOps.of(device, backend).clampPositions(desc, positions.nativeAddress());
    }

    /** {@code rounded = round(positions)}, half to even as {@code torch.round}; the same tensor is allowed. */
    public void round(Tensor positions, Tensor rounded) {
        Device device = KernelConstruction.deviceOf(positions);
        Shapes.requireOn("positions", positions, shape, device);
        Shapes.requireOn("rounded", rounded, shape, device);
        DeviceOps.of(device, backend).roundPositions(positions.nativeAddress(), rounded.nativeAddress(), count);
    }
}
