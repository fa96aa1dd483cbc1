package io.dcls4j.ops;

import io.dcls4j.PaddingMode;
import io.dcls4j.internal.Shapes;

import java.util.Arrays;
import java.util.Objects;

/**
 * The shape of an N-dimensional grouped convolution (cross-correlation, as {@code torch.nn.functional.convNd}).
 *
 * <p>Arrays, all in C order: input {@code x (batch, inChannels, inputSize...)}, kernel
 * {@code (outChannels, inChannels / groups, kernelSize...)}, output {@code y (batch, outChannels, outputSize...)}.
 * The input is first extended by {@code padding} cells on both sides of each spatial axis according to
 * {@code paddingMode}, then convolved without padding.
 *
 * @param batch       number of samples {@code N}
 * @param inChannels  number of input channels; divisible by {@code groups}
 * @param outChannels number of output channels; divisible by {@code groups}
 * @param groups      number of groups
 * @param inputSize   spatial size of the input, 1 to 3 axes
 * @param kernelSize  spatial size of the kernel, same length
 * @param stride      stride per axis, at least 1
 * @param padding     padding per axis on both sides, at least 0
 * @param paddingMode how the padding cells are filled
 */
public record ConvConfig(int batch, int inChannels, int outChannels, int groups, int[] inputSize,
                         int[] kernelSize, int[] stride, int[] padding, PaddingMode paddingMode) {

    public ConvConfig {
        Objects.requireNonNull(inputSize, "inputSize");
        Objects.requireNonNull(kernelSize, "kernelSize");
        Objects.requireNonNull(stride, "stride");
        Objects.requireNonNull(padding, "padding");
        Objects.requireNonNull(paddingMode, "paddingMode");
        requirePositive("batch", batch);
        requirePositive("inChannels", inChannels);
        requirePositive("outChannels", outChannels);
        requirePositive("groups", groups);
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("groups (" + groups + ") must divide inChannels (" + inChannels
                    + ") and outChannels (" + outChannels + ")");
        }
        int ndim = inputSize.length;
        if (ndim < 1 || ndim > 3) {
            throw new IllegalArgumentException("inputSize must have 1 to 3 entries, got " + ndim);
        }
        if (kernelSize.length != ndim || stride.length != ndim || padding.length != ndim) {
            throw new IllegalArgumentException("inputSize, kernelSize, stride and padding must have the same length,"
                    + " got " + ndim + ", " + kernelSize.length + ", " + stride.length + ", " + padding.length);
        }
        inputSize = inputSize.clone();
        kernelSize = kernelSize.clone();
        stride = stride.clone();
        padding = padding.clone();
        for (int d = 0; d < ndim; d++) {
            if (inputSize[d] < 1) {
                throw new IllegalArgumentException("inputSize[" + d + "] must be positive, got " + inputSize[d]);
            }
            if (kernelSize[d] < 1) {
                throw new IllegalArgumentException("kernelSize[" + d + "] must be positive, got " + kernelSize[d]);
            }
            if (stride[d] < 1) {
                throw new IllegalArgumentException("stride[" + d + "] must be positive, got " + stride[d]);
            }
            if (padding[d] < 0) {
                throw new IllegalArgumentException("padding[" + d + "] must not be negative, got " + padding[d]);
            }
            if ((long) inputSize[d] + 2L * padding[d] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("axis " + d + ": the padded input size " + inputSize[d] + " + 2*"
                        + padding[d] + " exceeds the limit " + Integer.MAX_VALUE);
            }
            if ((long) inputSize[d] + 2L * padding[d] < kernelSize[d]) {
                throw new IllegalArgumentException("axis " + d + ": kernel size " + kernelSize[d]
                        + " is larger than the padded input " + inputSize[d] + " + 2*" + padding[d]);
            }
            if (paddingMode == PaddingMode.REFLECT && padding[d] >= inputSize[d]) {
                throw new IllegalArgumentException("axis " + d + ": reflect padding " + padding[d]
                        + " must be smaller than the input size " + inputSize[d]);
            }
            if (paddingMode == PaddingMode.CIRCULAR && padding[d] > inputSize[d]) {
                throw new IllegalArgumentException("axis " + d + ": circular padding " + padding[d]
                        + " must not exceed the input size " + inputSize[d]);
            }
        }
        long spatialIn = 1;
        long spatialPadded = 1;
        long spatialKernel = 1;
        for (int d = 0; d < ndim; d++) {
            spatialIn *= inputSize[d];
            spatialPadded *= inputSize[d] + 2L * padding[d];
            spatialKernel *= kernelSize[d];
        }
        if ((long) batch * inChannels * spatialPadded > Integer.MAX_VALUE
                || (long) outChannels * (inChannels / groups) * spatialKernel > Integer.MAX_VALUE
                || (long) batch * inChannels * spatialIn > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("convolution too large for Java arrays: input " + batch + " x "
                    + inChannels + " x " + spatialIn + " (padded " + spatialPadded + "), kernel " + outChannels + " x "
                    + (inChannels / groups) + " x " + spatialKernel + " elements; the limit is "
                    + Integer.MAX_VALUE + " each");
        }
    }

    private static void requirePositive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }

    /** The number of spatial axes, 1 to 3. */
    public int ndim() {
        return inputSize.length;
    }

    /** The spatial output size: {@code (in + 2 * padding - kernel) / stride + 1} per axis. */
    public int[] outputSize() {
        int[] out = new int[inputSize.length];
        for (int d = 0; d < out.length; d++) {
            out[d] = (int) ((inputSize[d] + 2L * padding[d] - kernelSize[d]) / stride[d] + 1); // checked: fits
        }
        return out;
    }

    /** The input's shape, (N, Cin, inputSize...): the one place it is made (the ops and every backend ask here). */
    public long[] inputShape() {
        return Shapes.of(batch, inChannels, inputSize);
    }

    /** The output's shape, (N, Cout, outputSize...). */
    public long[] outputShape() {
        return Shapes.of(batch, outChannels, outputSize());
    }

    /** The kernel's shape, (Cout, Cin/groups, kernelSize...). */
    public long[] kernelShape() {
        return Shapes.of(outChannels, inPerGroup(), kernelSize);
    }

    /** Input channels per group. */
    public int inPerGroup() {
        return inChannels / groups;
    }

    /** Output channels per group. */
    public int outPerGroup() {
        return outChannels / groups;
    }

    /** Length of the input array {@code x}. */
    public int inputLength() {
        return batch * inChannels * product(inputSize);
    }

    /** Length of the kernel array. */
    public int kernelLength() {
        return outChannels * inPerGroup() * product(kernelSize);
    }

    /** Length of the output array {@code y}. */
    public int outputLength() {
        return batch * outChannels * product(outputSize());
    }

    private static int product(int[] values) {
        int p = 1;
        for (int v : values) {
            p *= v;
        }
        return p;
    }

    @Override
    public int[] inputSize() {
        return inputSize.clone();
    }

    @Override
    public int[] kernelSize() {
        return kernelSize.clone();
    }

    @Override
    public int[] stride() {
        return stride.clone();
    }

    @Override
    public int[] padding() {
        return padding.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConvConfig other
                && batch == other.batch && inChannels == other.inChannels && outChannels == other.outChannels
                && groups == other.groups && paddingMode == other.paddingMode
                && Arrays.equals(inputSize, other.inputSize) && Arrays.equals(kernelSize, other.kernelSize)
                && Arrays.equals(stride, other.stride) && Arrays.equals(padding, other.padding);
    }

    @Override
    public int hashCode() {
        return Objects.hash(batch, inChannels, outChannels, groups, paddingMode, Arrays.hashCode(inputSize),
                Arrays.hashCode(kernelSize), Arrays.hashCode(stride), Arrays.hashCode(padding));
    }

    @Override
    public String toString() {
        return "ConvConfig[batch=" + batch + ", inChannels=" + inChannels + ", outChannels=" + outChannels
                + ", groups=" + groups + ", inputSize=" + Arrays.toString(inputSize)
                + ", kernelSize=" + Arrays.toString(kernelSize) + ", stride=" + Arrays.toString(stride)
                + ", padding=" + Arrays.toString(padding) + ", paddingMode=" + paddingMode + "]";
    }
}
