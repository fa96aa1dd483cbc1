package io.dcls4j.internal;

import io.dcls4j.ffi.dcls_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** {@link DeviceOps} on the CPU: {@code libdcls}, whose plans have kernel windows and the tap-sparse engine. */
public final class CpuOps implements DeviceOps {
    static final CpuOps INSTANCE = new CpuOps();

    private CpuOps() {}

    @Override
    public void constructForward(MemorySegment desc, MemorySegment weight, MemorySegment positions,
                                 MemorySegment sigma, MemorySegment kernel) {
        Native.check(dcls_h.dcls_construct_forward(desc, weight, positions, sigma, kernel));
    }

    @Override
    public void constructBackward(MemorySegment desc, MemorySegment weight, MemorySegment positions,
                                  MemorySegment sigma, MemorySegment gradKernel, MemorySegment gradWeight,
                                  MemorySegment gradPositions, MemorySegment gradSigma, boolean accumulate) {
        Native.check(dcls_h.dcls_construct_backward(desc, weight, positions, sigma, gradKernel, gradWeight,
                gradPositions, gradSigma, accumulate ? 1 : 0));
    }

    @Override
    public boolean constructWindow(MemorySegment desc, MemorySegment positions, MemorySegment sigma,
                                   MemorySegment lo, MemorySegment hi) {
        Native.check(dcls_h.dcls_construct_kernel_window(desc, positions, sigma, lo, hi));
        return true;
    }

    @Override
    public void clampPositions(MemorySegment desc, MemorySegment positions) {
        Native.check(dcls_h.dcls_positions_clamp(desc, positions));
    }

    @Override
    public void roundPositions(MemorySegment src, MemorySegment dst, long count) {
        Native.check(dcls_h.dcls_positions_round(src, dst, count));
    }

    @Override
    public MemorySegment createPlan(MemorySegment convDesc, boolean tf32) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(dcls_h.dcls_conv_plan_create(convDesc, out));
            return out.get(ValueLayout.ADDRESS, 0);
        }
    }

    @Override
    public void destroyPlan(MemorySegment plan) {
        Native.check(dcls_h.dcls_conv_plan_destroy(plan));
    }

    @Override
    public String planInfo(MemorySegment plan) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(dcls_h.dcls_conv_plan_info(plan, out));
            return Native.cString(out.get(ValueLayout.ADDRESS, 0));
        }
    }

    @Override
    public void convForward(MemorySegment plan, MemorySegment x, MemorySegment kernel, MemorySegment bias,
                            MemorySegment y) {
        Native.check(dcls_h.dcls_conv_forward(plan, x, kernel, bias, y));
    }

    @Override
    public void convBackwardData(MemorySegment plan, MemorySegment gradY, MemorySegment kernel,
                                 MemorySegment gradX) {
        Native.check(dcls_h.dcls_conv_backward_data(plan, gradY, kernel, gradX));
    }

    @Override
    public void convBackwardWeights(MemorySegment plan, MemorySegment x, MemorySegment gradY,
                                    MemorySegment gradKernel, MemorySegment gradBias, boolean accumulate) {
        Native.check(dcls_h.dcls_conv_backward_weights(plan, x, gradY, gradKernel, gradBias, accumulate ? 1 : 0));
    }

    @Override
    public boolean setKernelWindow(MemorySegment plan, MemorySegment lo, MemorySegment hi) {
        Native.check(dcls_h.dcls_conv_plan_set_kernel_window(plan, lo, hi));
        return true;
    }

    @Override
    public boolean setKernelCells(MemorySegment plan, MemorySegment constructDesc, MemorySegment positions,
                                  MemorySegment sigma, boolean gradient) {
        Native.check(dcls_h.dcls_conv_plan_set_kernel_cells(plan, constructDesc, positions, sigma, gradient ? 1 : 0));
        return true;
    }
}
