package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.ffi.dcls_nn_h;

/** torch.nn.MaxPool1d/2d/3d (dilation 1, ceil_mode False); one value per spatial axis. */
public final class MaxPool extends Pool {
    public MaxPool(int[] kernel, int[] stride, int[] padding) {
        this(kernel, stride, padding, Device.cpu());
    }

    /** On {@code device}: a CPU or CUDA device. */
    public MaxPool(int[] kernel, int[] stride, int[] padding, Device device) {
        super(dcls_nn_h.DCLS_POOL_MAX(), kernel, stride, padding, device);
    }
}
