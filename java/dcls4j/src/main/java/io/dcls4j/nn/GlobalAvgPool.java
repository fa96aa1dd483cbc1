package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.ffi.dcls_nn_h;

/** The mean over every spatial axis: (N, C, spatial...) to (N, C), as x.mean([-2, -1]) in ConvNeXt. */
public final class GlobalAvgPool extends Pool {
    public GlobalAvgPool() {
        this(Device.cpu());
    }

    /** On {@code device}: a CPU or CUDA device. */
    public GlobalAvgPool(Device device) {
        super(dcls_nn_h.DCLS_POOL_AVG_INCLUDE_PADDING(), null, null, null, device);
    }

    @Override
    long[] outputShape(long[] shape, long[] outSize) {
        return new long[] {shape[0], shape[1]};
    }
}
