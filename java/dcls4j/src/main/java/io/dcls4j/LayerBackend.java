package io.dcls4j;

import io.dcls4j.ops.KernelWindow;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;

/**
 * What a {@link DclsConv} needs from the hardware it runs on: kernel construction and a convolution
 * plan per input shape. The layer's logic (parameters, caching, modes, checks) is the same for every
 * device; only these calls differ, {@link CpuBackend} (oneDNN and dcls4j's CPU kernels, through
 * {@code io.dcls4j.ops}) or {@link CudaBackend} (libdcls_cuda.so on one device's stream).
 * Tensors given to a backend are on its device and of the right shapes: the layer allocated them or
 * checked them.
 */
sealed interface LayerBackend permits CpuBackend, CudaBackend {

    /** Kernel construction, forward and backward, for one configuration. */
    Construction construction(ConstructConfig config);

    /** A convolution plan for one input shape; close it to free its native memory. */
    Plan plan(ConvConfig config);

    /** Kernel construction: see {@link io.dcls4j.ops.KernelConstruction} for the semantics. */
    interface Construction {
        void forward(Tensor weight, Tensor positions, Tensor sigma, Tensor kernel);

        void backward(Tensor weight, Tensor positions, Tensor sigma, Tensor gradKernel, Tensor gradWeight,
                      Tensor gradPositions, Tensor gradSigma, boolean accumulate);

        /** Narrows {@code window} to the cells the kernel can touch, or leaves it (a backend without windows). */
        void window(Tensor positions, Tensor sigma, KernelWindow window);
    }

    /** A convolution plan: see {@link io.dcls4j.ops.Convolution} for the semantics. */
    interface Plan extends AutoCloseable {
        long[] outputShape();

        /** Lets the plan skip the kernel cells outside {@code window}, or ignores it (a backend without windows). */
        void setKernelWindow(KernelWindow window);

        /**
         * Tells the plan that its kernels are made by {@code construction} (of this backend, its kernel this plan's
         * kernel) from these positions and sigma, so that it can convolve with just their cells (see
         * {@link io.dcls4j.ops.Convolution#setKernelCells}). Returns false, having done nothing, on a backend
         * without that engine: the caller then sets a kernel window instead.
         */
        default boolean setKernelCells(Construction construction, Tensor positions, Tensor sigma, boolean gradient) {
            return false;
        }

        void forward(Tensor x, Tensor kernel, Tensor bias, Tensor y);

        void backwardData(Tensor gradY, Tensor kernel, Tensor gradX);

        void backwardWeights(Tensor x, Tensor gradY, Tensor gradKernel, Tensor gradBias, boolean accumulate);

        /** Which engine runs each pass now, as the native plan reports it (see {@link io.dcls4j.ops.Convolution#engineInfo()}). */
        String engineInfo();

        @Override
        void close();
    }
}
