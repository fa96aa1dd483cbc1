package io.dcls4j.nn;

import io.dcls4j.ffi.dcls_nn_h;

/** torch.nn.MaxPool1d/2d/3d (dilation 1, ceil_mode False); one value per spatial axis. */
public final class MaxPool extends Pool {
    public MaxPool(int[] kernel, int[] stride, int[] padding) {
        super(dcls_nn_h.DCLS_POOL_MAX(), kernel, stride, padding);
    }
}
