package io.dcls4j.internal;

import io.dcls4j.ffi.dcls_h;
import io.dcls4j.ops.ConvConfig;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** {@link DeviceOps} on the CPU: {@code libdcls}, whose plans have kernel windows and the tap-sparse engine. */
public final class CpuOps implements DeviceOps {
    static final CpuOps INSTANCE = new CpuOps();

    private CpuOps() {}

    @Override
    public void constructForward(ConstructDesc desc, MemorySegment weight, MemorySegment positions,
                                 MemorySegment sigma, MemorySegment kernel) {
        Native.check(dcls_h.dcls_construct_forward(desc.segment(), weight, positions, sigma, kernel));
    }

    @Override
    public void constructBackward(ConstructDesc desc, MemorySegment weight, MemorySegment positions,
                                  MemorySegment sigma, MemorySegment gradKernel, MemorySegment gradWeight,
                                  MemorySegment gradPositions, MemorySegment gradSigma, boolean accumulate) {
        Native.check(dcls_h.dcls_construct_backward(desc.segment(), weight, positions, sigma, gradKernel, gradWeight,
                gradPositions, gradSigma, accumulate ? 1 : 0));
    }

    @Override
    public boolean constructWindow(ConstructDesc desc, MemorySegment positions, MemorySegment sigma,
                                   MemorySegment lo, MemorySegment hi) {
        Native.check(dcls_h.dcls_construct_kernel_window(desc.segment(), positions, sigma, lo, hi));
        return true;
    }

    @Override
    public void clampPositions(ConstructDesc desc, MemorySegment positions) {
        Native.check(dcls_h.dcls_positions_clamp(desc.segment(), positions));
    }

    @Override
    public void roundPositions(MemorySegment src, MemorySegment dst, long count) {
        Native.check(dcls_h.dcls_positions_round(src, dst, count));
    }

    @Override
    public Plan createPlan(ConvConfig config, boolean tf32) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(dcls_h.dcls_conv_plan_create(Descriptors.conv(arena, config), out));
            return new CpuPlan(out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** A {@code dcls_conv_plan}: oneDNN primitives and dcls4j's engines, chosen per pass. */
    private record CpuPlan(MemorySegment handle) implements Plan {
        @Override
        public void forward(MemorySegment x, MemorySegment kernel, MemorySegment bias, MemorySegment y) {
            Native.check(dcls_h.dcls_conv_forward(handle, x, kernel, bias, y));
        }

        @Override
        public void backwardData(MemorySegment gradY, MemorySegment kernel, MemorySegment gradX) {
            Native.check(dcls_h.dcls_conv_backward_data(handle, gradY, kernel, gradX));
        }

        @Override
        public void backwardWeights(MemorySegment x, MemorySegment gradY, MemorySegment gradKernel,
                                    MemorySegment gradBias, boolean accumulate) {
            Native.check(dcls_h.dcls_conv_backward_weights(handle, x, gradY, gradKernel, gradBias,
                    accumulate ? 1 : 0));
        }

        @Override
        public boolean setKernelWindow(MemorySegment lo, MemorySegment hi) {
            Native.check(dcls_h.dcls_conv_plan_set_kernel_window(handle, lo, hi));
            return true;
        }

        @Override
        public boolean setKernelCells(ConstructDesc construct, MemorySegment positions, MemorySegment sigma,
                                      boolean gradient) {
            Native.check(dcls_h.dcls_conv_plan_set_kernel_cells(handle, construct.segment(), positions, sigma,
                    gradient ? 1 : 0));
            return true;
        }

        @Override
        public String info() {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
                Native.check(dcls_h.dcls_conv_plan_info(handle, out));
                return Native.cString(out.get(ValueLayout.ADDRESS, 0));
            }
        }

        @Override
        public void destroy() {
            Native.check(dcls_h.dcls_conv_plan_destroy(handle));
        }
    }
}
