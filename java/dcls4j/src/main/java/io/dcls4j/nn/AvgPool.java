package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.ffi.dcls_nn_h;

/** torch.nn.AvgPool1d/2d/3d (count_include_pad True, ceil_mode False); one value per spatial axis. */
public final class AvgPool extends Pool {
    public AvgPool(int[] kernel, int[] stride, int[] padding) {
        this(kernel, stride, padding, Device.cpu());
    }

    /** On {@code device}: a CPU or CUDA device. */
    public AvgPool(int[] kernel, int[] stride, int[] padding, Device device) {
        super(dcls_nn_h.DCLS_POOL_AVG_INCLUDE_PADDING(), kernel, stride, padding, device);
    }
}
