package io.dcls4j.internal;

import io.dcls4j.Device;
import io.dcls4j.Tensor;

import java.util.Arrays;

/**
 * Argument checks shared by the native ops and the layer backends: a named tensor of an exact shape, on
 * the expected device, whose memory is alive. {@code wrongDevice} ends the message when the device is not
 * the expected one (after "NAME is on DEVICE").
 */
public final class Shapes {
    private static final String ON_THE_CPU =
            ", but io.dcls4j.ops runs on the CPU (a DclsConv built with device(...) runs on the GPU)";

    private Shapes() {}

    /** A host tensor (the CPU ops). */
    public static void require(String name, Tensor t, long[] shape) {
        require(name, t, shape, Device.cpu(), ON_THE_CPU);
    }

    /** A host tensor, or null. */
    public static void requireOptional(String name, Tensor t, long[] shape) {
        requireOptional(name, t, shape, Device.cpu(), ON_THE_CPU);
    }

    public static void require(String name, Tensor t, long[] shape, Device device, String wrongDevice) {
        if (t == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        requireOptional(name, t, shape, device, wrongDevice);
    }

    /** As {@link #require}, but null passes (an optional argument). */
    public static void requireOptional(String name, Tensor t, long[] shape, Device device, String wrongDevice) {
        if (t == null) {
            return;
        }
        if (!t.hasShape(shape)) {
            throw new IllegalArgumentException(name + " has shape " + Arrays.toString(t.shape()) + ", expected "
                    + Arrays.toString(shape));
        }
        if (!t.device().equals(device)) {
            throw new IllegalArgumentException(name + " is on " + t.device() + wrongDevice);
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
