package io.dcls4j.ops;

import io.dcls4j.Tensor;

import java.util.Arrays;

/** Argument checks shared by the native ops: a named host tensor of an exact shape whose memory is alive. */
final class Shapes {
    private Shapes() {}

    static void require(String name, Tensor t, long[] shape) {
        if (t == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        requireOptional(name, t, shape);
    }

    static void requireOptional(String name, Tensor t, long[] shape) {
        if (t == null) {
            return;
        }
        if (!t.hasShape(shape)) {
            throw new IllegalArgumentException(name + " has shape " + Arrays.toString(t.shape()) + ", expected "
                    + Arrays.toString(shape));
        }
        if (t.device().isCuda()) {
            throw new IllegalArgumentException(name + " is on " + t.device() + ", but io.dcls4j.ops runs on the CPU"
                    + " (a DclsConv built with device(...) runs on the GPU)");
        }
        t.requireAlive(name);
    }
}
