package io.dcls4j;

import io.dcls4j.internal.DeviceOps;
import io.dcls4j.ops.Convolution;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;
import io.dcls4j.ops.KernelConstruction;
import io.dcls4j.ops.KernelWindow;
import io.dcls4j.ops.Positions;

/**
 * Where and how a {@link DclsConv} (or {@link DclsConvTranspose}) runs: its device, its {@link Backend} and the
 * options its plans take. The ops themselves, {@link KernelConstruction}, {@link Convolution} and
 * {@link Positions}, work on the CPU and on CUDA devices alike, natively or in Java; the layer's logic
 * (parameters, caching, modes, checks) is the same for every device and backend.
 */
final class LayerBackend {
    private final Device device;
    private final Backend backend;
    private final boolean cudaTf32;

    /**
     * {@link DclsException} now, not at the first call, when CUDA or the device is missing; likewise
     * {@link IllegalStateException} when the Vector API is.
     */
    LayerBackend(Device device, Backend backend, boolean cudaTf32) {
        this.device = device;
        this.backend = backend;
        this.cudaTf32 = cudaTf32;
        DeviceOps.of(device, backend);
    }

    /** Which implementation runs the layer. */
    Backend backend() {
        return backend;
    }

    /** Kernel construction for one configuration. */
    Construction construction(ConstructConfig config) {
        return new Ops(new KernelConstruction(config, backend));
    }

    /** A convolution plan for one input shape, on the layer's device; close it to free its native memory. */
    Convolution plan(ConvConfig config) {
        return new Convolution(config, device, backend, cudaTf32);
    }

    /** The upkeep of positions of {@code shape} (clamp, rounding), on the layer's backend. */
    Positions positions(int[] dilatedKernelSize, long[] shape) {
        return new Positions(backend, dilatedKernelSize, shape);
    }

    /**
     * Gives {@code plan} the cells of the kernels {@code construction} makes from these positions and sigma (see
     * {@link Convolution#setKernelCells}). False, having done nothing, where the construction's kernel is not the
     * plan's (a reshaped kind): the caller then sets a kernel window instead.
     */
    static boolean setKernelCells(Convolution plan, Construction construction, Tensor positions, Tensor sigma,
                                  boolean gradient) {
        return construction instanceof Ops ops && plan.setKernelCells(ops.k(), positions, sigma, gradient);
    }

    /**
     * As {@link #setKernelCells}, with the positions and sigma in host tensors (a layer's host mirror, see
     * {@link io.dcls4j.internal.HostPositions}): false, having done nothing, for a reshaped kind or a plan without
     * the host entry.
     */
    static boolean setKernelCellsFromHost(Convolution plan, Construction construction, Tensor hostPositions,
                                          Tensor hostSigma, boolean gradient) {
        return construction instanceof Ops ops && io.dcls4j.internal.HostPositions.plans()
                .setKernelCellsFromHost(plan, ops.k(), hostPositions, hostSigma, gradient);
    }

    /** Whether plans take this construction's cells ({@link #setKernelCells}); else, a reshaped kind, a window. */
    static boolean takesCells(Construction construction) {
        return construction instanceof Ops;
    }

    /**
     * Kernel construction as a layer sees it: see {@link KernelConstruction} for the semantics. The op itself, or
     * {@link ReshapedConstruction} over it for the kinds whose kernel is reshaped.
     */
    interface Construction {
        void forward(Tensor weight, Tensor positions, Tensor sigma, Tensor kernel);

        void backward(Tensor weight, Tensor positions, Tensor sigma, Tensor gradKernel, Tensor gradWeight,
                      Tensor gradPositions, Tensor gradSigma, boolean accumulate);

        /** Narrows {@code window} to the cells the kernel can touch, or leaves it (a device without windows). */
        void window(Tensor positions, Tensor sigma, KernelWindow window);
    }

    /** The op, whose kernel a plan of the same kernel shape can take the cells of. */
    private record Ops(KernelConstruction k) implements Construction {
        @Override
        public void forward(Tensor weight, Tensor positions, Tensor sigma, Tensor kernel) {
            k.forward(weight, positions, sigma, kernel);
        }

        @Override
        public void backward(Tensor weight, Tensor positions, Tensor sigma, Tensor gradKernel, Tensor gradWeight,
                             Tensor gradPositions, Tensor gradSigma, boolean accumulate) {
            k.backward(weight, positions, sigma, gradKernel, gradWeight, gradPositions, gradSigma, accumulate);
        }

        @Override
        public void window(Tensor positions, Tensor sigma, KernelWindow window) {
            k.window(positions, sigma, window);
        }
    }
}
