package io.dcls4j.internal;

import io.dcls4j.Device;
import io.dcls4j.Tensor;

import java.util.Arrays;

/** Argument checks of the native ops: a named tensor of an exact shape, on the expected device, whose memory is alive. */
public final class Shapes {

    private Shapes() {}

    /**
     * A tensor of {@code shape} on {@code device}, whose memory is alive: the ops, which run where their first
     * tensor is and take every other tensor of the call from the same device. Messages are built only on failure.
     */
    public static void requireOn(String name, Tensor t, long[] shape, Device device) {
        if (t == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        requireOptionalOn(name, t, shape, device);
    }

    /** As {@link #requireOn}, but null passes (an optional argument). */
    public static void requireOptionalOn(String name, Tensor t, long[] shape, Device device) {
        if (t == null) {
            return;
        }
        if (!t.hasShape(shape)) {
            throw new IllegalArgumentException(name + " has shape " + Arrays.toString(t.shape()) + ", expected "
                    + Arrays.toString(shape));
        }
        if (!t.device().equals(device)) {
            throw new IllegalArgumentException(name + " is on " + t.device() + ", expected " + device
                    + ": every tensor of a call must be on one device");
        }
        t.requireAlive(name);
    }

    /** The shape (first, second, spatial...): activations (N, C, size...) and kernels (Cout, Cin/g, k...). */
    public static long[] of(long first, long second, int... spatial) {
        long[] shape = new long[2 + spatial.length];
        shape[0] = first;
        shape[1] = second;
        for (int d = 0; d < spatial.length; d++) {
            shape[2 + d] = spatial[d];
        }
        return shape;
    }

    /** {@code value} as an int, or an {@link IllegalArgumentException} naming it and the limit. */
    public static int toInt(String name, long value) {
        if (value > Integer.MAX_VALUE || value < Integer.MIN_VALUE) {
            throw new IllegalArgumentException(name + " " + value + " exceeds the limit " + Integer.MAX_VALUE);
        }
        return (int) value;
    }
}
