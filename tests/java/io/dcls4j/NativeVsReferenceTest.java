package io.dcls4j;

import io.dcls4j.ops.KernelConstruction;
import io.dcls4j.ops.KernelWindow;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;
import io.dcls4j.reference.ReferenceConstruct;
import io.dcls4j.reference.ReferenceConv;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static io.dcls4j.Compare.close;
import static io.dcls4j.Compare.toDouble;
import static io.dcls4j.Compare.toFloat;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native layer (float32, oneDNN) against the pure-Java float64 reference on random
 * configurations: every dimensionality and interpolation, groups (depthwise included), strides,
 * paddings and padding modes, non-square sizes, positions partly off the grid.
 */
class NativeVsReferenceTest {

    /** One random configuration per seed. */
    record Case(int seed, Interpolation interpolation, int ndim, int batch, int inChannels, int outChannels,
                int groups, int kernelCount, int[] dks, int[] stride, int[] padding, PaddingMode mode, boolean bias,
                int[] inputSize) {
        @Override
        public String toString() {
            return "seed " + seed + ": " + interpolation + " " + ndim + "D N=" + batch + " " + inChannels + "->"
                    + outChannels + " g=" + groups + " K=" + kernelCount + " dks=" + Arrays.toString(dks) + " stride="
                    + Arrays.toString(stride) + " pad=" + Arrays.toString(padding) + " " + mode + " bias=" + bias
                    + " in=" + Arrays.toString(inputSize);
        }
    }

    static Case randomCase(int seed) {
        SplittableRandom r = new SplittableRandom(1000 + seed);
        int ndim = 1 + seed % 3;
        Interpolation interp = Interpolation.values()[(seed / 3) % 4];
        int groupsChoice = r.nextInt(3);
        int inChannels;
        int outChannels;
        int groups;
        if (groupsChoice == 0) {
            groups = 1;
            inChannels = 1 + r.nextInt(4);
            outChannels = 1 + r.nextInt(4);
        } else if (groupsChoice == 1) {
            groups = 2;
            inChannels = 2 * (1 + r.nextInt(2));
            outChannels = 2 * (1 + r.nextInt(2));
        } else { // depthwise, sometimes with a channel multiplier
            inChannels = 2 + r.nextInt(4);
            groups = inChannels;
            outChannels = inChannels * (1 + r.nextInt(2));
        }
        int maxSize = ndim == 1 ? 13 : ndim == 2 ? 8 : 5;
        int[] dks = new int[ndim];
        int[] stride = new int[ndim];
        int[] padding = new int[ndim];
        int[] input = new int[ndim];
        PaddingMode mode = PaddingMode.values()[r.nextInt(4)];
        for (int d = 0; d < ndim; d++) {
            dks[d] = 1 + r.nextInt(maxSize);
            stride[d] = 1 + r.nextInt(3);
            input[d] = dks[d] / 2 + 2 + r.nextInt(ndim == 3 ? 5 : 9);
            padding[d] = r.nextInt(dks[d] / 2 + 1);
            if (mode == PaddingMode.REFLECT) {
                padding[d] = Math.min(padding[d], input[d] - 1);
            }
            if (input[d] + 2 * padding[d] < dks[d]) {
                input[d] = dks[d];
            }
        }
        return new Case(seed, interp, ndim, 1 + r.nextInt(2), inChannels, outChannels, groups, 1 + r.nextInt(5),
                dks, stride, padding, mode, r.nextBoolean(), input);
    }

    /** Seeds from this one on put every element near the centre, so the kernel window is small. */
    static final int CONCENTRATED = 96;

    static IntStream seeds() {
        return IntStream.range(0, CONCENTRATED + 48);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("seeds")
    void layerMatchesReference(int seed) {
        check(randomCase(seed), seed >= CONCENTRATED);
    }

    /**
     * Large kernels with every element near the centre, as at the start of training: the layer's
     * convolution runs on a window of the kernel (checked: under 60% of it), for each interpolation,
     * dimension and padding mode.
     */
    static Stream<Case> largeKernels() {
        return Stream.of(
                new Case(1001, Interpolation.GAUSSIAN, 1, 2, 4, 4, 1, 8, new int[] {41}, new int[] {1},
                        new int[] {20}, PaddingMode.ZEROS, true, new int[] {64}),
                new Case(1002, Interpolation.BILINEAR, 2, 2, 4, 4, 4, 6, new int[] {17, 17}, new int[] {1, 1},
                        new int[] {8, 8}, PaddingMode.ZEROS, true, new int[] {20, 18}),
                new Case(1003, Interpolation.GAUSSIAN, 2, 2, 4, 6, 2, 3, new int[] {31, 23}, new int[] {2, 1},
                        new int[] {15, 11}, PaddingMode.REFLECT, false, new int[] {19, 16}),
                new Case(1004, Interpolation.TRIANGLE, 1, 1, 3, 2, 1, 5, new int[] {31}, new int[] {1},
                        new int[] {15}, PaddingMode.CIRCULAR, true, new int[] {40}),
                new Case(1005, Interpolation.TRIANGLE_LEARNED_WIDTH, 3, 1, 2, 2, 2, 4, new int[] {9, 9, 11},
                        new int[] {1, 1, 1}, new int[] {4, 4, 5}, PaddingMode.REPLICATE, true, new int[] {6, 6, 7}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("largeKernels")
    void windowedLayerMatchesReference(Case c) {
        check(c, true);
    }

    static void check(Case c, boolean concentrated) {
        int seed = c.seed;
        SplittableRandom r = new SplittableRandom(seed);
        try (Arena arena = Arena.ofConfined();
             DclsConv conv = DclsConv.builder(c.inChannels, c.outChannels).kernelCount(c.kernelCount)
                     .dilatedKernelSize(c.dks).stride(c.stride).padding(c.padding).groups(c.groups).bias(c.bias)
                     .interpolation(c.interpolation).paddingMode(c.mode).seed(seed).build()) {
            // positions spread beyond the grid so some elements fall partly or wholly off it, or (as at
            // the start of training) all near the centre, where the convolution runs on a window of the kernel
            Tensor p = conv.positions().value();
            long perComponent = p.elementCount() / c.ndim;
            for (long i = 0; i < p.elementCount(); i++) {
                double half = concentrated ? 0 : c.dks[(int) (i / perComponent)] / 2.0;
                p.set(i, (float) r.nextDouble(-half - 1.5, half + 1.5));
            }
            if (conv.sigma() != null) {
                Tensor s = conv.sigma().value();
                double range = concentrated ? 0.3 : 1.5;
                for (long i = 0; i < s.elementCount(); i++) {
                    s.set(i, (float) r.nextDouble(-range, range));
                }
            }
            if (concentrated && c.seed > 1000) {
                KernelWindow window = new KernelWindow(c.dks);
                new KernelConstruction(new ConstructConfig(c.interpolation, c.outChannels, c.inChannels / c.groups,
                        c.kernelCount, c.dks)).window(p, conv.sigma() == null ? null : conv.sigma().value(), window);
                double fraction = window.volume() / (double) Arrays.stream(c.dks).asLongStream().reduce(1, (a, b) -> a * b);
                assertTrue(fraction < 0.6, "the window should be a small part of the kernel: " + window);
            }
            long[] xShape = new long[2 + c.ndim];
            xShape[0] = c.batch;
            xShape[1] = c.inChannels;
            for (int d = 0; d < c.ndim; d++) {
                xShape[2 + d] = c.inputSize[d];
            }
            float[] x = random(r, Math.toIntExact(product(xShape)));
            Tensor xt = Tensor.allocate(arena, xShape).copyFrom(x);

            Tensor y = conv.forward(xt);

            double[] w = toDouble(conv.weight().value().toFloatArray());
            double[] pos = toDouble(conv.positions().value().toFloatArray());
            double[] sig = conv.sigma() == null ? null : toDouble(conv.sigma().value().toFloatArray());
            double[] b = conv.bias() == null ? null : toDouble(conv.bias().value().toFloatArray());
            ConstructConfig cc = new ConstructConfig(c.interpolation, c.outChannels, c.inChannels / c.groups,
                    c.kernelCount, c.dks);
            ConvConfig vc = new ConvConfig(c.batch, c.inChannels, c.outChannels, c.groups, c.inputSize, c.dks,
                    c.stride, c.padding, c.mode);
            double[] kernel = ReferenceConstruct.forward(cc, w, pos, sig);
            close("kernel", kernel, conv.kernel().toFloatArray());
            // the convolution is checked on the kernel the layer actually built, so errors do not compound
            double[] nativeKernel = toDouble(conv.kernel().toFloatArray());
            close("y", ReferenceConv.forward(vc, toDouble(x), nativeKernel, b), y.toFloatArray());

            float[] gy = random(r, Math.toIntExact(y.elementCount()));
            Tensor gyt = Tensor.allocate(arena, y.shape()).copyFrom(gy);
            Tensor gx = conv.backward(gyt);

            close("grad_x", ReferenceConv.backwardData(vc, toDouble(gy), nativeKernel), gx.toFloatArray());
            double[] gk = ReferenceConv.backwardWeights(vc, toDouble(x), toDouble(gy));
            if (b != null) {
                close("grad_bias", ReferenceConv.backwardBias(vc, toDouble(gy)), conv.bias().grad().toFloatArray());
            }
            // the construction backward is checked on the float32 kernel gradient it was given
            ReferenceConstruct.ConstructGradients g = ReferenceConstruct.backward(cc, w, pos, sig,
                    toDouble(toFloat(gk)));
            close("grad_weight", g.weight(), conv.weight().grad().toFloatArray());
            close("grad_P", g.positions(), conv.positions().grad().toFloatArray());
            if (sig != null) {
                close("grad_SIG", g.sigma(), conv.sigma().grad().toFloatArray());
            }
        }
    }

    static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        return v;
    }

    static long product(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
