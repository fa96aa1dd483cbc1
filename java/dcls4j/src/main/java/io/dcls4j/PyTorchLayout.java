package io.dcls4j;

import java.util.Objects;

/**
 * Converts DCLS parameters between the PyTorch reference's layout and dcls4j's.
 *
 * <p>In dcls4j, position component {@code P[d]} moves along spatial axis {@code d} with centre offset
 * {@code dks[d] / 2} (dks = dilated kernel size, integer division), for every interpolation. In the PyTorch
 * reference (K-H-Ismail/Dilated-Convolution-with-Learnable-Spacings-PyTorch), component {@code i} moves along
 * axis {@code a(i)} ({@link #referenceAxisOrder}) but keeps the centre offset {@code dks[i] / 2}:
 *
 * <pre>
 * ndim  version             a(0) a(1) a(2)
 *  1    all                  0
 *  2    v0 (BILINEAR)        0    1
 *  2    v1, max, gauss       1    0
 *  3    v0 (BILINEAR)        0    2    1
 *  3    v1, max, gauss       2    1    0
 * </pre>
 *
 * Hence {@code ours[a(i)] = ref[i] + dks[i]/2 - dks[a(i)]/2}, while sigma is only reordered:
 * {@code oursSigma[a(i)] = refSigma[i]}. Gradients with respect to positions or sigma are only reordered too
 * (the shift is constant): use {@link #gradientsToReference} and {@link #gradientsFromReference}.
 *
 * <p>Every array has the shape {@code (ndim, Cout, Cin/groups, K)} in C order, so each component is one
 * contiguous block of {@code length / ndim} values. The input arrays are never modified.
 */
public final class PyTorchLayout {

    private PyTorchLayout() {
    }

    /**
     * The axis {@code a(i)} along which the reference's component {@code i} moves, for {@code i = 0..ndim-1}.
     */
    public static int[] referenceAxisOrder(Interpolation interpolation, int ndim) {
        Objects.requireNonNull(interpolation, "interpolation");
        boolean bilinear = interpolation == Interpolation.BILINEAR;
        return switch (ndim) {
            case 1 -> new int[]{0};
            case 2 -> bilinear ? new int[]{0, 1} : new int[]{1, 0};
            case 3 -> bilinear ? new int[]{0, 2, 1} : new int[]{2, 1, 0};
            default -> throw new IllegalArgumentException("ndim must be 1, 2 or 3, got " + ndim);
        };
    }

    // ------------------------------------------------------------------------------------------ positions

    /** Reference positions to dcls4j positions: {@code ours[a(i)] = ref[i] + dks[i]/2 - dks[a(i)]/2}. */
    public static double[] positionsFromReference(Interpolation interpolation, int[] dilatedKernelSize,
                                                  double[] refPositions) {
        return fromReference(interpolation, dilatedKernelSize, refPositions, true);
    }

    /** Float version of {@link #positionsFromReference(Interpolation, int[], double[])}. */
    public static float[] positionsFromReference(Interpolation interpolation, int[] dilatedKernelSize,
                                                 float[] refPositions) {
        return toFloat(positionsFromReference(interpolation, dilatedKernelSize, toDouble(refPositions)));
    }

    /** dcls4j positions to reference positions: {@code ref[i] = ours[a(i)] - dks[i]/2 + dks[a(i)]/2}. */
    public static double[] positionsToReference(Interpolation interpolation, int[] dilatedKernelSize,
                                                double[] positions) {
        return toReference(interpolation, dilatedKernelSize, positions, true);
    }

    /** Float version of {@link #positionsToReference(Interpolation, int[], double[])}. */
    public static float[] positionsToReference(Interpolation interpolation, int[] dilatedKernelSize,
                                               float[] positions) {
        return toFloat(positionsToReference(interpolation, dilatedKernelSize, toDouble(positions)));
    }

    // ------------------------------------------------------------------------------------------ sigma

    /** Reference sigma to dcls4j sigma: {@code ours[a(i)] = ref[i]} (no shift). */
    public static double[] sigmaFromReference(Interpolation interpolation, int[] dilatedKernelSize,
                                              double[] refSigma) {
        return fromReference(interpolation, dilatedKernelSize, refSigma, false);
    }

    /** Float version of {@link #sigmaFromReference(Interpolation, int[], double[])}. */
    public static float[] sigmaFromReference(Interpolation interpolation, int[] dilatedKernelSize,
                                             float[] refSigma) {
        return toFloat(sigmaFromReference(interpolation, dilatedKernelSize, toDouble(refSigma)));
    }

    /** dcls4j sigma to reference sigma: {@code ref[i] = ours[a(i)]} (no shift). */
    public static double[] sigmaToReference(Interpolation interpolation, int[] dilatedKernelSize, double[] sigma) {
        return toReference(interpolation, dilatedKernelSize, sigma, false);
    }

    /** Float version of {@link #sigmaToReference(Interpolation, int[], double[])}. */
    public static float[] sigmaToReference(Interpolation interpolation, int[] dilatedKernelSize, float[] sigma) {
        return toFloat(sigmaToReference(interpolation, dilatedKernelSize, toDouble(sigma)));
    }

    // ------------------------------------------------------------------------------------------ gradients

    /**
     * Gradients with respect to dcls4j positions or sigma, to gradients with respect to the reference's:
     * {@code ref[i] = ours[a(i)]} (the position shift is constant, so it does not appear).
     */
    public static double[] gradientsToReference(Interpolation interpolation, int[] dilatedKernelSize,
                                                double[] gradients) {
        return toReference(interpolation, dilatedKernelSize, gradients, false);
    }

    /** Float version of {@link #gradientsToReference(Interpolation, int[], double[])}. */
    public static float[] gradientsToReference(Interpolation interpolation, int[] dilatedKernelSize,
                                               float[] gradients) {
        return toFloat(gradientsToReference(interpolation, dilatedKernelSize, toDouble(gradients)));
    }

    /** The inverse of {@link #gradientsToReference}: {@code ours[a(i)] = ref[i]}. */
    public static double[] gradientsFromReference(Interpolation interpolation, int[] dilatedKernelSize,
                                                  double[] refGradients) {
        return fromReference(interpolation, dilatedKernelSize, refGradients, false);
    }

    /** Float version of {@link #gradientsFromReference(Interpolation, int[], double[])}. */
    public static float[] gradientsFromReference(Interpolation interpolation, int[] dilatedKernelSize,
                                                 float[] refGradients) {
        return toFloat(gradientsFromReference(interpolation, dilatedKernelSize, toDouble(refGradients)));
    }

    // ------------------------------------------------------------------------------------------ implementation

    private static double[] fromReference(Interpolation interpolation, int[] dks, double[] ref, boolean shift) {
        int[] axis = checkedAxisOrder(interpolation, dks, ref);
        int block = ref.length / dks.length;
        double[] ours = new double[ref.length];
        for (int i = 0; i < dks.length; i++) {
            double offset = shift ? dks[i] / 2 - dks[axis[i]] / 2 : 0;
            for (int j = 0; j < block; j++) {
                ours[axis[i] * block + j] = ref[i * block + j] + offset;
            }
        }
        return ours;
    }

    private static double[] toReference(Interpolation interpolation, int[] dks, double[] ours, boolean shift) {
        int[] axis = checkedAxisOrder(interpolation, dks, ours);
        int block = ours.length / dks.length;
        double[] ref = new double[ours.length];
        for (int i = 0; i < dks.length; i++) {
            double offset = shift ? dks[i] / 2 - dks[axis[i]] / 2 : 0;
            for (int j = 0; j < block; j++) {
                ref[i * block + j] = ours[axis[i] * block + j] - offset;
            }
        }
        return ref;
    }

    private static int[] checkedAxisOrder(Interpolation interpolation, int[] dks, double[] values) {
        Objects.requireNonNull(dks, "dilatedKernelSize");
        Objects.requireNonNull(values, "values");
        int[] axis = referenceAxisOrder(interpolation, dks.length);
        for (int size : dks) {
            if (size < 1) {
                throw new IllegalArgumentException("dilated kernel sizes must be positive");
            }
        }
        if (values.length % dks.length != 0) {
            throw new IllegalArgumentException("array length " + values.length
                    + " is not a multiple of ndim = " + dks.length + " (expected shape (ndim, Cout, Cin/g, K))");
        }
        return axis;
    }

    private static double[] toDouble(float[] values) {
        Objects.requireNonNull(values, "values");
        double[] result = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = values[i];
        }
        return result;
    }

    private static float[] toFloat(double[] values) {
        float[] result = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = (float) values[i];
        }
        return result;
    }
}
