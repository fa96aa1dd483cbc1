package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.ffi.dcls_nn_h;

/** torch.nn.GELU(): the exact GELU, x * Phi(x) with the error function. */
public final class Gelu extends Activation {
    public Gelu() {
        this(Device.cpu());
    }

    /** On {@code device}: a CPU or CUDA device. */
    public Gelu(Device device) {
        super(dcls_nn_h.DCLS_ACTIVATION_GELU_ERF(), device);
    }
}
