package io.dcls4j.io;

import java.util.Arrays;
import java.util.Objects;

/**
 * A dense n-dimensional array of doubles in C (row-major) order, as read from or written to a NumPy
 * {@code .npy} file.
 *
 * <p>The shape is copied; the data array is <em>not</em> copied (arrays may be large), so the caller must not
 * modify it while the record is in use. A 0-dimensional array (shape {@code []}) holds one value.
 *
 * @param shape the size of each axis, each at least 0
 * @param data  the values, {@code product(shape)} of them
 */
public record NdArray(long[] shape, double[] data) {

    public NdArray {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        shape = shape.clone();
        long count = 1;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] < 0) {
                throw new IllegalArgumentException("shape[" + d + "] is negative: " + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, shape[d]);
        }
        if (count != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count
                    + " values but data has " + data.length);
        }
    }

    /** An array of the given values (not copied) and shape; no shape means a 0-dimensional array of one value. */
    public static NdArray of(double[] data, long... shape) {
        return new NdArray(shape, data);
    }

    /** A 1-dimensional array of the given values (not copied). */
    public static NdArray vector(double... data) {
        return new NdArray(new long[]{data.length}, data);
    }

    /** An array of the given values (not copied) and int shape. */
    public static NdArray of(double[] data, int... shape) {
        return new NdArray(Arrays.stream(shape).asLongStream().toArray(), data);
    }

    /** An array of the given float values (widened to double) and shape. */
    public static NdArray ofFloats(float[] data, long... shape) {
        double[] values = new double[data.length];
        for (int i = 0; i < data.length; i++) {
            values[i] = data[i];
        }
        return of(values, shape);
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The shape as ints (every axis of a Java-array-backed array fits an int). */
    public int[] intShape() {
        int[] result = new int[shape.length];
        for (int d = 0; d < shape.length; d++) {
            result[d] = (int) shape[d];
        }
        return result;
    }

    /** The number of axes. */
    public int ndim() {
        return shape.length;
    }

    /** The number of values. */
    public int size() {
        return data.length;
    }

    /** The values rounded to float. */
    public float[] toFloatArray() {
        float[] values = new float[data.length];
        for (int i = 0; i < data.length; i++) {
            values[i] = (float) data[i];
        }
        return values;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NdArray other && Arrays.equals(shape, other.shape) && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        String values = data.length <= 8 ? Arrays.toString(data) : data.length + " values";
        return "NdArray[shape=" + Arrays.toString(shape) + ", data=" + values + "]";
    }
}
