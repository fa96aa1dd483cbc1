package io.dcls4j.nn;

import io.dcls4j.ffi.dcls_nn_h;

/** torch.nn.GELU(): the exact GELU, x * Phi(x) with the error function. */
public final class Gelu extends Activation {
    public Gelu() {
        super(dcls_nn_h.DCLS_ACTIVATION_GELU_ERF());
    }
}
