package io.dcls4j.ops;

import io.dcls4j.Interpolation;
import io.dcls4j.internal.Shapes;

import java.util.Arrays;
import java.util.Objects;

/**
 * The shape of a DCLS kernel construction.
 *
 * <p>The learnable parameters have the shapes
 * <ul>
 *   <li>weight: {@code (outChannels, inPerGroup, kernelCount)},</li>
 *   <li>positions and sigma: {@code (ndim, outChannels, inPerGroup, kernelCount)},</li>
 * </ul>
 * and the constructed dense kernel has the shape {@code (outChannels, inPerGroup, dilatedKernelSize...)},
 * all in C (row-major) order.
 *
 * @param interpolation     how an element's real-valued position is spread over the integer grid
 * @param outChannels       number of output channels ({@code Cout})
 * @param inPerGroup        number of input channels per group ({@code Cin / groups})
 * @param kernelCount       number of elements per (output, input) channel pair ({@code K})
 * @param dilatedKernelSize size of the dense kernel along each spatial axis; its length is ndim (1 to 3)
 * @param gaussianSigmaOffset what {@link Interpolation#GAUSSIAN} adds to {@code |sigma|}:
 *                          {@link #GAUSSIAN_SIGMA_OFFSET} (0.27, every reference module but one) or
 *                          {@link #GAUSSIAN_UNIT_SIGMA_OFFSET} (1.0, the reference's {@code Dcls2_1d})
 */
public record ConstructConfig(Interpolation interpolation, int outChannels, int inPerGroup, int kernelCount,
                              int[] dilatedKernelSize, double gaussianSigmaOffset) {

    /** The Gaussian's usual offset, {@code std = |sigma| + 0.27}. */
    public static final double GAUSSIAN_SIGMA_OFFSET = 0.27;
    /** The offset of the reference's {@code Dcls2_1d} Gaussian, {@code std = |sigma| + 1}. */
    public static final double GAUSSIAN_UNIT_SIGMA_OFFSET = 1.0;
    /** {@code dcls_interpolation} DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET (dcls.h). */
    private static final int NATIVE_GAUSSIAN_UNIT_OFFSET = 4;

    /** A construction with the usual Gaussian offset (0.27). */
    public ConstructConfig(Interpolation interpolation, int outChannels, int inPerGroup, int kernelCount,
                           int[] dilatedKernelSize) {
        this(interpolation, outChannels, inPerGroup, kernelCount, dilatedKernelSize, GAUSSIAN_SIGMA_OFFSET);
    }

    public ConstructConfig {
        if (gaussianSigmaOffset != GAUSSIAN_SIGMA_OFFSET && gaussianSigmaOffset != GAUSSIAN_UNIT_SIGMA_OFFSET) {
            throw new IllegalArgumentException("gaussianSigmaOffset must be 0.27 or 1.0 (the reference's two),"
                    + " got " + gaussianSigmaOffset);
        }
        Objects.requireNonNull(interpolation, "interpolation");
        Objects.requireNonNull(dilatedKernelSize, "dilatedKernelSize");
        requirePositive("outChannels", outChannels);
        requirePositive("inPerGroup", inPerGroup);
        requirePositive("kernelCount", kernelCount);
        if (dilatedKernelSize.length < 1 || dilatedKernelSize.length > 3) {
            throw new IllegalArgumentException(
                    "dilatedKernelSize must have 1 to 3 entries (one per spatial axis), got "
                            + dilatedKernelSize.length);
        }
        dilatedKernelSize = dilatedKernelSize.clone();
        long volume = 1;
        for (int d = 0; d < dilatedKernelSize.length; d++) {
            if (dilatedKernelSize[d] < 1) {
                throw new IllegalArgumentException(
                        "dilatedKernelSize[" + d + "] must be positive, got " + dilatedKernelSize[d]);
            }
            volume *= dilatedKernelSize[d];
        }
        long kernelLength = volume * outChannels * inPerGroup;
        long positionLength = (long) dilatedKernelSize.length * outChannels * inPerGroup * kernelCount;
        if (kernelLength > Integer.MAX_VALUE || positionLength > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("construction too large for Java arrays: kernel has "
                    + kernelLength + " entries, positions " + positionLength);
        }
    }

    private static void requirePositive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }

    /**
     * The {@code dcls_interpolation} value of dcls.h: the interpolation's {@link Interpolation#code()}, except
     * for a Gaussian with the unit offset (DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET).
     */
    public int nativeInterpolation() {
        return interpolation == Interpolation.GAUSSIAN && gaussianSigmaOffset == GAUSSIAN_UNIT_SIGMA_OFFSET
                ? NATIVE_GAUSSIAN_UNIT_OFFSET : interpolation.code();
    }

    /** A copy of the dense kernel's spatial size. */
    @Override
    public int[] dilatedKernelSize() {
        return dilatedKernelSize.clone();
    }

    /** The number of spatial axes, 1 to 3. */
    public int ndim() {
        return dilatedKernelSize.length;
    }

    /** The number of cells in one spatial kernel: the product of {@link #dilatedKernelSize()}. */
    public int kernelVolume() {
        int volume = 1;
        for (int size : dilatedKernelSize) {
            volume *= size;
        }
        return volume;
    }

    /** The number of (output, input) channel pairs: {@code outChannels * inPerGroup}. */
    public int pairCount() {
        return outChannels * inPerGroup;
    }

    /** The number of elements, i.e. the length of the weight array: {@code outChannels * inPerGroup * kernelCount}. */
    public int elementCount() {
        return outChannels * inPerGroup * kernelCount;
    }

    /** The length of the positions (and sigma) array: {@code ndim * elementCount()}. */
    public int positionLength() {
        return ndim() * elementCount();
    }

    /** The weight's shape, (Cout, Cin/groups, K): the one place it is made (the ops and every backend ask here). */
    public long[] weightShape() {
        return new long[] {outChannels, inPerGroup, kernelCount};
    }

    /** The shape of the positions and of sigma, (ndim, Cout, Cin/groups, K). */
    public long[] positionShape() {
        return new long[] {ndim(), outChannels, inPerGroup, kernelCount};
    }

    /** The dense kernel's shape, (Cout, Cin/groups, dilatedKernelSize...). */
    public long[] kernelShape() {
        return Shapes.of(outChannels, inPerGroup, dilatedKernelSize);
    }

    /** The length of the dense kernel array: {@code pairCount() * kernelVolume()}. */
    public int kernelLength() {
        return pairCount() * kernelVolume();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConstructConfig other
                && interpolation == other.interpolation
                && outChannels == other.outChannels
                && inPerGroup == other.inPerGroup
                && kernelCount == other.kernelCount
                && Arrays.equals(dilatedKernelSize, other.dilatedKernelSize)
                && gaussianSigmaOffset == other.gaussianSigmaOffset;
    }

    @Override
    public int hashCode() {
        return Objects.hash(interpolation, outChannels, inPerGroup, kernelCount, Arrays.hashCode(dilatedKernelSize),
                gaussianSigmaOffset);
    }

    @Override
    public String toString() {
        return "ConstructConfig[interpolation=" + interpolation + ", outChannels=" + outChannels
                + ", inPerGroup=" + inPerGroup + ", kernelCount=" + kernelCount
                + ", dilatedKernelSize=" + Arrays.toString(dilatedKernelSize)
                + (gaussianSigmaOffset == GAUSSIAN_SIGMA_OFFSET ? "" : ", gaussianSigmaOffset=" + gaussianSigmaOffset)
                + "]";
    }
}
