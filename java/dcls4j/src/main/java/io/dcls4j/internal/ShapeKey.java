package io.dcls4j.internal;

import java.util.Arrays;

/**
 * An input shape as a map key (arrays compare by identity): the per-shape caches of the layers, {@code DclsConv}'s
 * and {@code io.dcls4j.nn}'s, look up their plans with it. The array is the caller's copy, never changed after.
 */
public record ShapeKey(long[] shape) {
    @Override
    public boolean equals(Object o) {
        return o instanceof ShapeKey k && Arrays.equals(shape, k.shape);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return Arrays.toString(shape);
    }
}
