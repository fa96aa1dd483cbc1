package io.dcls4j.internal;

import io.dcls4j.Device;

import java.lang.foreign.MemorySegment;

/**
 * The native calls behind {@code io.dcls4j.ops}, one implementation per kind of device: {@link CpuOps}
 * ({@code libdcls}: oneDNN and dcls4j's CPU engines) and {@link CudaContext} ({@code libdcls_cuda} on one
 * device's stream). The ops check shapes, devices and liveness first; pointers here are raw (host memory, or a
 * device address for CUDA). Every call throws {@link io.dcls4j.DclsException} with the native message on
 * failure.
 */
public sealed interface DeviceOps permits CpuOps, CudaContext {

    /** The calls for tensors on {@code device} (a CUDA context is created on first use). */
    static DeviceOps of(Device device) {
        return device.isCuda() ? CudaContext.of(device.index()) : CpuOps.INSTANCE;
    }

    void constructForward(MemorySegment desc, MemorySegment weight, MemorySegment positions, MemorySegment sigma,
                          MemorySegment kernel);

    void constructBackward(MemorySegment desc, MemorySegment weight, MemorySegment positions, MemorySegment sigma,
                           MemorySegment gradKernel, MemorySegment gradWeight, MemorySegment gradPositions,
                           MemorySegment gradSigma, boolean accumulate);

    /**
     * Writes into {@code lo}, {@code hi} (3 longs each) the box of cells the construction can touch; false, having
     * written nothing, where this device has no kernel windows (CUDA: its plans always run on the whole kernel).
     */
    boolean constructWindow(MemorySegment desc, MemorySegment positions, MemorySegment sigma, MemorySegment lo,
                            MemorySegment hi);

    /** Clamps the positions of construction {@code desc} in place (dcls_positions_clamp). */
    void clampPositions(MemorySegment desc, MemorySegment positions);

    /** dst = src rounded half to even, {@code count} floats (dcls_positions_round). */
    void roundPositions(MemorySegment src, MemorySegment dst, long count);

    /** A convolution plan; {@code tf32}: whether cuDNN may use TF32 (ignored on the CPU). */
    MemorySegment createPlan(MemorySegment convDesc, boolean tf32);

    void destroyPlan(MemorySegment plan);

    /** Which engine runs each pass, as the native plan reports it. */
    String planInfo(MemorySegment plan);

    void convForward(MemorySegment plan, MemorySegment x, MemorySegment kernel, MemorySegment bias, MemorySegment y);

    void convBackwardData(MemorySegment plan, MemorySegment gradY, MemorySegment kernel, MemorySegment gradX);

    void convBackwardWeights(MemorySegment plan, MemorySegment x, MemorySegment gradY, MemorySegment gradKernel,
                             MemorySegment gradBias, boolean accumulate);

    /** Sets the plan's kernel window; false, having done nothing, where plans have no windows. */
    boolean setKernelWindow(MemorySegment plan, MemorySegment lo, MemorySegment hi);

    /** Gives the plan its kernel cells (the tap-sparse engine); false, having done nothing, where it has none. */
    boolean setKernelCells(MemorySegment plan, MemorySegment constructDesc, MemorySegment positions,
                           MemorySegment sigma, boolean gradient);
}
