package io.dcls4j.reference;

import io.dcls4j.ops.ConvConfig;
import io.dcls4j.PaddingMode;

import java.util.Objects;
import java.util.stream.IntStream;

/**
 * Pure-Java float64 direct convolution (cross-correlation, like {@code torch.nn.functional.convNd}) with groups,
 * stride and padding in all four {@link PaddingMode}s, and its gradients. Written for clarity: this is the test
 * oracle and the benchmark baseline.
 *
 * <p>Shapes, C order: x {@code (N, Cin, in...)}, kernel {@code (Cout, Cin/groups, k...)}, bias {@code (Cout)},
 * y {@code (N, Cout, out...)}. As in PyTorch, the input is first padded (zeros; reflect, which excludes the edge
 * cell; replicate, which repeats it; circular, which wraps around) and then convolved without padding. The data
 * gradient is computed for the padded input and then folded back onto the cells each padding cell was copied
 * from.
 *
 * <p>Internally every problem is treated as 3-D: missing leading spatial axes get size 1, kernel 1, stride 1 and
 * padding 0. Work is split over (sample, output channel) or similar disjoint slices with parallel streams; every
 * output value is accumulated by one thread in a fixed order, so results are deterministic.
 */
public final class ReferenceConv {

    private ReferenceConv() {
    }

    /** {@code y = conv(pad(x), kernel) + bias}; bias may be null. */
    public static double[] forward(ConvConfig c, double[] x, double[] kernel, double[] bias) {
        Objects.requireNonNull(c, "config");
        checkLength("x", x, c.inputLength());
        checkLength("kernel", kernel, c.kernelLength());
        if (bias != null) {
            checkLength("bias", bias, c.outChannels());
        }
        Geometry g = new Geometry(c);
        double[] xp = pad(g, x);
        double[] y = new double[c.outputLength()];
        IntStream.range(0, g.batch * g.outChannels).parallel().forEach(nAndO -> {
            int n = nAndO / g.outChannels;
            int o = nAndO % g.outChannels;
            int group = o / g.outPerGroup;
            for (int od = 0; od < g.out[0]; od++) {
                for (int oh = 0; oh < g.out[1]; oh++) {
                    for (int ow = 0; ow < g.out[2]; ow++) {
                        double sum = 0;
                        for (int i = 0; i < g.inPerGroup; i++) {
                            int channel = group * g.inPerGroup + i;
                            for (int kd = 0; kd < g.k[0]; kd++) {
                                for (int kh = 0; kh < g.k[1]; kh++) {
                                    for (int kw = 0; kw < g.k[2]; kw++) {
                                        sum += xp[g.paddedIndex(n, channel,
                                                od * g.s[0] + kd, oh * g.s[1] + kh, ow * g.s[2] + kw)]
                                                * kernel[g.kernelIndex(o, i, kd, kh, kw)];
                                    }
                                }
                            }
                        }
                        y[g.outputIndex(n, o, od, oh, ow)] = sum + (bias == null ? 0.0 : bias[o]);
                    }
                }
            }
        });
        return y;
    }

    /** The gradient with respect to x of {@code L = sum(y * gradY)}. */
    public static double[] backwardData(ConvConfig c, double[] gradY, double[] kernel) {
        Objects.requireNonNull(c, "config");
        checkLength("gradY", gradY, c.outputLength());
        checkLength("kernel", kernel, c.kernelLength());
        Geometry g = new Geometry(c);
        double[] gradPadded = new double[g.batch * g.inChannels * g.paddedVolume()];
        // Each (sample, group) slice writes to its own input channels only.
        IntStream.range(0, g.batch * g.groups).parallel().forEach(nAndGroup -> {
            int n = nAndGroup / g.groups;
            int group = nAndGroup % g.groups;
            for (int o = group * g.outPerGroup; o < (group + 1) * g.outPerGroup; o++) {
                for (int od = 0; od < g.out[0]; od++) {
                    for (int oh = 0; oh < g.out[1]; oh++) {
                        for (int ow = 0; ow < g.out[2]; ow++) {
                            double gy = gradY[g.outputIndex(n, o, od, oh, ow)];
                            for (int i = 0; i < g.inPerGroup; i++) {
                                int channel = group * g.inPerGroup + i;
                                for (int kd = 0; kd < g.k[0]; kd++) {
                                    for (int kh = 0; kh < g.k[1]; kh++) {
                                        for (int kw = 0; kw < g.k[2]; kw++) {
                                            gradPadded[g.paddedIndex(n, channel,
                                                    od * g.s[0] + kd, oh * g.s[1] + kh, ow * g.s[2] + kw)]
                                                    += gy * kernel[g.kernelIndex(o, i, kd, kh, kw)];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        });
        return foldPadding(g, gradPadded);
    }

    /** The gradient with respect to the kernel of {@code L = sum(y * gradY)}. */
    public static double[] backwardWeights(ConvConfig c, double[] x, double[] gradY) {
        Objects.requireNonNull(c, "config");
        checkLength("x", x, c.inputLength());
        checkLength("gradY", gradY, c.outputLength());
        Geometry g = new Geometry(c);
        double[] xp = pad(g, x);
        double[] gradKernel = new double[c.kernelLength()];
        IntStream.range(0, g.outChannels).parallel().forEach(o -> {
            int group = o / g.outPerGroup;
            for (int i = 0; i < g.inPerGroup; i++) {
                int channel = group * g.inPerGroup + i;
                for (int kd = 0; kd < g.k[0]; kd++) {
                    for (int kh = 0; kh < g.k[1]; kh++) {
                        for (int kw = 0; kw < g.k[2]; kw++) {
                            double sum = 0;
                            for (int n = 0; n < g.batch; n++) {
                                for (int od = 0; od < g.out[0]; od++) {
                                    for (int oh = 0; oh < g.out[1]; oh++) {
                                        for (int ow = 0; ow < g.out[2]; ow++) {
                                            sum += gradY[g.outputIndex(n, o, od, oh, ow)]
                                                    * xp[g.paddedIndex(n, channel,
                                                    od * g.s[0] + kd, oh * g.s[1] + kh, ow * g.s[2] + kw)];
                                        }
                                    }
                                }
                            }
                            gradKernel[g.kernelIndex(o, i, kd, kh, kw)] = sum;
                        }
                    }
                }
            }
        });
        return gradKernel;
    }

    /** The gradient with respect to the bias of {@code L = sum(y * gradY)}: gradY summed over samples and space. */
    public static double[] backwardBias(ConvConfig c, double[] gradY) {
        Objects.requireNonNull(c, "config");
        checkLength("gradY", gradY, c.outputLength());
        Geometry g = new Geometry(c);
        int outVolume = g.out[0] * g.out[1] * g.out[2];
        double[] gradBias = new double[g.outChannels];
        for (int n = 0; n < g.batch; n++) {
            for (int o = 0; o < g.outChannels; o++) {
                for (int cell = 0; cell < outVolume; cell++) {
                    gradBias[o] += gradY[(n * g.outChannels + o) * outVolume + cell];
                }
            }
        }
        return gradBias;
    }

    // ------------------------------------------------------------------------------------------------------------

    /**
     * The input cell a padded cell is copied from, along one axis: {@code i} is the unpadded coordinate
     * (may be negative or past the end), {@code size} the input size. Returns -1 for a zero cell.
     */
    static int sourceIndex(PaddingMode mode, int i, int size) {
        if (i >= 0 && i < size) {
            return i;
        }
        return switch (mode) {
            case ZEROS -> -1;
            case REFLECT -> i < 0 ? -i : 2 * (size - 1) - i;   // mirror about the edge cell, excluding it
            case REPLICATE -> i < 0 ? 0 : size - 1;            // repeat the edge cell
            case CIRCULAR -> Math.floorMod(i, size);          // wrap around
        };
    }

    /** The padded input {@code (N, Cin, in + 2 * padding...)}. */
    private static double[] pad(Geometry g, double[] x) {
        double[] xp = new double[g.batch * g.inChannels * g.paddedVolume()];
        for (int n = 0; n < g.batch; n++) {
            for (int channel = 0; channel < g.inChannels; channel++) {
                for (int pd = 0; pd < g.padded[0]; pd++) {
                    for (int ph = 0; ph < g.padded[1]; ph++) {
                        for (int pw = 0; pw < g.padded[2]; pw++) {
                            int sd = sourceIndex(g.mode, pd - g.p[0], g.in[0]);
                            int sh = sourceIndex(g.mode, ph - g.p[1], g.in[1]);
                            int sw = sourceIndex(g.mode, pw - g.p[2], g.in[2]);
                            if (sd >= 0 && sh >= 0 && sw >= 0) {
                                xp[g.paddedIndex(n, channel, pd, ph, pw)] = x[g.inputIndex(n, channel, sd, sh, sw)];
                            }
                        }
                    }
                }
            }
        }
        return xp;
    }

    /** The adjoint of {@link #pad}: adds the gradient of every padded cell onto the input cell it came from. */
    private static double[] foldPadding(Geometry g, double[] gradPadded) {
        double[] gradX = new double[g.batch * g.inChannels * g.in[0] * g.in[1] * g.in[2]];
        for (int n = 0; n < g.batch; n++) {
            for (int channel = 0; channel < g.inChannels; channel++) {
                for (int pd = 0; pd < g.padded[0]; pd++) {
                    for (int ph = 0; ph < g.padded[1]; ph++) {
                        for (int pw = 0; pw < g.padded[2]; pw++) {
                            int sd = sourceIndex(g.mode, pd - g.p[0], g.in[0]);
                            int sh = sourceIndex(g.mode, ph - g.p[1], g.in[1]);
                            int sw = sourceIndex(g.mode, pw - g.p[2], g.in[2]);
                            if (sd >= 0 && sh >= 0 && sw >= 0) {
                                gradX[g.inputIndex(n, channel, sd, sh, sw)]
                                        += gradPadded[g.paddedIndex(n, channel, pd, ph, pw)];
                            }
                        }
                    }
                }
            }
        }
        return gradX;
    }

    /** The configuration promoted to three spatial axes (leading axes of size 1) with C-order index helpers. */
    private static final class Geometry {
        final int batch;
        final int inChannels;
        final int outChannels;
        final int groups;
        final int inPerGroup;
        final int outPerGroup;
        final int[] in = new int[3];
        final int[] k = new int[3];
        final int[] s = new int[3];
        final int[] p = new int[3];
        final int[] padded = new int[3];
        final int[] out = new int[3];
        final PaddingMode mode;

        Geometry(ConvConfig c) {
            batch = c.batch();
            inChannels = c.inChannels();
            outChannels = c.outChannels();
            groups = c.groups();
            inPerGroup = c.inPerGroup();
            outPerGroup = c.outPerGroup();
            mode = c.paddingMode();
            int shift = 3 - c.ndim();
            int[] inputSize = c.inputSize();
            int[] kernelSize = c.kernelSize();
            int[] stride = c.stride();
            int[] padding = c.padding();
            int[] outputSize = c.outputSize();
            for (int d = 0; d < 3; d++) {
                boolean real = d >= shift;
                in[d] = real ? inputSize[d - shift] : 1;
                k[d] = real ? kernelSize[d - shift] : 1;
                s[d] = real ? stride[d - shift] : 1;
                p[d] = real ? padding[d - shift] : 0;
                out[d] = real ? outputSize[d - shift] : 1;
                padded[d] = in[d] + 2 * p[d];
            }
        }

        int paddedVolume() {
            return padded[0] * padded[1] * padded[2];
        }

        int inputIndex(int n, int channel, int d, int h, int w) {
            return (((n * inChannels + channel) * in[0] + d) * in[1] + h) * in[2] + w;
        }

        int paddedIndex(int n, int channel, int d, int h, int w) {
            return (((n * inChannels + channel) * padded[0] + d) * padded[1] + h) * padded[2] + w;
        }

        int kernelIndex(int o, int i, int d, int h, int w) {
            return (((o * inPerGroup + i) * k[0] + d) * k[1] + h) * k[2] + w;
        }

        int outputIndex(int n, int o, int d, int h, int w) {
            return (((n * outChannels + o) * out[0] + d) * out[1] + h) * out[2] + w;
        }
    }

    private static void checkLength(String name, double[] array, int expected) {
        Objects.requireNonNull(array, name);
        if (array.length != expected) {
            throw new IllegalArgumentException(name + " has length " + array.length + ", expected " + expected);
        }
    }
}
