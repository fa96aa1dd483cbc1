package io.dcls4j.internal;

import io.dcls4j.Backend;
import io.dcls4j.Device;
import io.dcls4j.ops.ConvConfig;

import java.lang.foreign.MemorySegment;

/**
 * The calls behind {@code io.dcls4j.ops}, one implementation per backend and kind of device: {@link CpuOps}
 * ({@code libdcls}: oneDNN and dcls4j's CPU engines), {@link CudaContext} ({@code libdcls_cuda} on one device's
 * stream) and {@link VectorOps} (pure Java, the Vector API). The ops check shapes, devices and liveness first;
 * segments here are raw (host memory, or a device address for CUDA). Every native call throws
 * {@link io.dcls4j.DclsException} with the native message on failure.
 */
public sealed interface DeviceOps permits CpuOps, CudaContext, VectorOps {

    /** The native calls for tensors on {@code device} (a CUDA context is created on first use). */
    static DeviceOps of(Device device) {
        return device.isCuda() ? CudaContext.of(device.index()) : CpuOps.INSTANCE;
    }

    /**
     * The calls of {@code backend} for tensors on {@code device}: {@link IllegalArgumentException} where the backend
     * does not run on that device, {@link IllegalStateException} where the JVM lacks the Vector API.
     */
    static DeviceOps of(Device device, Backend backend) {
        if (backend == null) {
            throw new IllegalArgumentException("backend is null");
        }
        if (!backend.supports(device)) {
            throw new IllegalArgumentException("the " + backend + " backend runs on the CPU only, not on " + device);
        }
        return backend == Backend.VECTOR_API ? VectorOps.instance() : of(device);
    }

    void constructForward(ConstructDesc desc, MemorySegment weight, MemorySegment positions, MemorySegment sigma,
                          MemorySegment kernel);

    void constructBackward(ConstructDesc desc, MemorySegment weight, MemorySegment positions, MemorySegment sigma,
                           MemorySegment gradKernel, MemorySegment gradWeight, MemorySegment gradPositions,
                           MemorySegment gradSigma, boolean accumulate);

    /**
     * Writes into {@code lo}, {@code hi} (3 longs each) the box of cells the construction can touch; false, having
     * written nothing, where this backend's plans have no kernel windows.
     */
    boolean constructWindow(ConstructDesc desc, MemorySegment positions, MemorySegment sigma, MemorySegment lo,
                            MemorySegment hi);

    /** Clamps the positions of construction {@code desc} in place (dcls_positions_clamp). */
    void clampPositions(ConstructDesc desc, MemorySegment positions);

    /** dst = src rounded half to even, {@code count} floats (dcls_positions_round). */
    void roundPositions(MemorySegment src, MemorySegment dst, long count);

    /** A convolution plan for {@code config}; {@code tf32}: whether cuDNN may use TF32 (ignored elsewhere). */
    Plan createPlan(ConvConfig config, boolean tf32);

    /**
     * A convolution plan of one backend: the passes for one shape, with the primitives and scratch made when it was
     * created. Used by one thread at a time (the op guards it); {@link #destroy} once.
     */
    interface Plan {
        void forward(MemorySegment x, MemorySegment kernel, MemorySegment bias, MemorySegment y);

        void backwardData(MemorySegment gradY, MemorySegment kernel, MemorySegment gradX);

        void backwardWeights(MemorySegment x, MemorySegment gradY, MemorySegment gradKernel, MemorySegment gradBias,
                             boolean accumulate);

        /**
         * Both gradients: {@link #backwardWeights} then {@link #backwardData}, in one call so that a backend may read
         * gradY once.
         */
        default void backward(MemorySegment x, MemorySegment gradY, MemorySegment kernel, MemorySegment gradKernel,
                              MemorySegment gradBias, boolean accumulate, MemorySegment gradX) {
            backwardWeights(x, gradY, gradKernel, gradBias, accumulate);
            backwardData(gradY, kernel, gradX);
        }

        /** Sets the kernel window; false, having done nothing, where plans have no windows. */
        boolean setKernelWindow(MemorySegment lo, MemorySegment hi);

        /**
         * Gives the plan its kernel cells (the tap-sparse engine; the Java plan's weight-gradient mask); false,
         * having done nothing, where it takes none.
         */
        boolean setKernelCells(ConstructDesc construct, MemorySegment positions, MemorySegment sigma,
                               boolean gradient);

        /**
         * As {@link #setKernelCells}, with the positions and sigma in host memory on a device whose plans otherwise
         * read them from device memory (CUDA: no copy, no wait for the stream); false, having done nothing, where
         * the plan has no such entry (the caller then takes {@link #setKernelCells}).
         */
        default boolean setKernelCellsFromHost(ConstructDesc construct, MemorySegment hostPositions,
                                               MemorySegment hostSigma, boolean gradient) {
            return false;
        }

        /** Which engine runs each pass. */
        String info();

        void destroy();
    }
}
