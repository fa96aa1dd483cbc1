package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.ffi.dcls_nn_h;

/** torch.nn.ReLU(): max(x, 0); the gradient at 0 is 0, as torch. */
public final class Relu extends Activation {
    public Relu() {
        this(Device.cpu());
    }

    /** On {@code device}: a CPU or CUDA device. */
    public Relu(Device device) {
        super(dcls_nn_h.DCLS_ACTIVATION_RELU(), device);
    }
}
