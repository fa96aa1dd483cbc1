package io.dcls4j.fuzz;

import io.dcls4j.DclsConv;
import io.dcls4j.Interpolation;
import io.dcls4j.PaddingMode;
import io.dcls4j.Tensor;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;
import io.dcls4j.reference.ReferenceConstruct;
import io.dcls4j.reference.ReferenceConv;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;

/** DclsConv: random valid configurations against the float64 reference, invalid ones, and extremes. */
final class LayerCases {
    private LayerCases() {}

    /** A configuration; sizes are long so that extremes can pass int range on the way to the API. */
    record Config(int in, int out, int groups, int kernelCount, int[] dks, int[] stride, int[] padding,
                  PaddingMode mode, Interpolation interpolation, boolean bias, long batch, long[] input) {
        DclsConv.Builder builder(long seed) {
            return DclsConv.builder(in, out).groups(groups).kernelCount(kernelCount).dilatedKernelSize(dks)
                    .stride(stride).padding(padding).paddingMode(mode).interpolation(interpolation).bias(bias)
                    .seed(seed);
        }

        long[] inputShape() {
            long[] s = new long[2 + input.length];
            s[0] = batch;
            s[1] = in;
            System.arraycopy(input, 0, s, 2, input.length);
            return s;
        }

        @Override
        public String toString() {
            return "Dcls" + dks.length + "d(" + in + "->" + out + ", g=" + groups + ", K=" + kernelCount + ", dks="
                    + Arrays.toString(dks) + ", stride=" + Arrays.toString(stride) + ", pad=" + Arrays.toString(padding)
                    + ", " + mode + ", " + interpolation + ", bias=" + bias + ") on " + Arrays.toString(inputShape());
        }
    }

    /** A small valid configuration, like the project's NativeVsReferenceTest. */
    static Config valid(SplittableRandom r) {
        int ndim = 1 + r.nextInt(3);
        int groups;
        int in;
        int out;
        switch (r.nextInt(3)) {
            case 0 -> { groups = 1; in = 1 + r.nextInt(4); out = 1 + r.nextInt(4); }
            case 1 -> { groups = 2; in = 2 * (1 + r.nextInt(2)); out = 2 * (1 + r.nextInt(2)); }
            default -> { in = 1 + r.nextInt(4); groups = in; out = in * (1 + r.nextInt(2)); }
        }
        int maxSize = ndim == 1 ? 13 : ndim == 2 ? 8 : 5;
        PaddingMode mode = PaddingMode.values()[r.nextInt(4)];
        int[] dks = new int[ndim];
        int[] stride = new int[ndim];
        int[] padding = new int[ndim];
        long[] input = new long[ndim];
        for (int d = 0; d < ndim; d++) {
            dks[d] = 1 + r.nextInt(maxSize);
            stride[d] = r.nextInt(10) == 0 ? hugeStride(r) : 1 + r.nextInt(3);
            int size = dks[d] / 2 + 2 + r.nextInt(ndim == 3 ? 5 : 9);
            padding[d] = r.nextInt(dks[d] / 2 + 1);
            if (mode == PaddingMode.REFLECT) {
                padding[d] = Math.min(padding[d], size - 1);
            }
            if (size + 2 * padding[d] < dks[d]) {
                size = dks[d];
            }
            input[d] = size;
        }
        return new Config(in, out, groups, 1 + r.nextInt(5), dks, stride, padding, mode,
                Interpolation.values()[r.nextInt(4)], r.nextBoolean(), 1 + r.nextInt(2), input);
    }

    static int hugeStride(SplittableRandom r) {
        int[] strides = {12, 20000, 32768, 65535, 131072, 1 << 20, 1 << 24, 1 << 30, Integer.MAX_VALUE};
        return strides[r.nextInt(strides.length)];
    }

    static FuzzCase validCase(long seed, SplittableRandom r) {
        Config c = valid(r);
        int extraShapes = r.nextInt(4) == 0 ? 1 + r.nextInt(10) : 0;
        boolean inference = r.nextInt(6) == 0;
        return new FuzzCase(seed, "layer", c + (extraShapes > 0 ? " +" + extraShapes + " shapes" : "")
                + (inference ? " inference" : ""), FuzzCase.Expect.VALID, () -> runValid(seed, c, extraShapes, inference));
    }

    /** Forward and backward against the reference; then other shapes, and the first result's fate. */
    static void runValid(long seed, Config c, int extraShapes, boolean inference) throws Exception {
        SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        try (Arena arena = Arena.ofConfined(); DclsConv conv = c.builder(seed).build()) {
            randomise(conv, c, r);
            float[] x = random(r, Math.toIntExact(product(c.inputShape())));
            Tensor xt = Tensor.allocate(arena, c.inputShape()).copyFrom(x);
            Tensor y = conv.forward(xt);
            int[] input = Arrays.stream(c.input).mapToInt(v -> (int) v).toArray();
            ConvConfig vc = new ConvConfig((int) c.batch, c.in, c.out, c.groups, input, c.dks, c.stride, c.padding,
                    c.mode);
            ConstructConfig cc = new ConstructConfig(c.interpolation, c.out, c.in / c.groups, c.kernelCount, c.dks);
            double[] w = toDouble(conv.weight().value().toFloatArray());
            double[] pos = toDouble(conv.positions().value().toFloatArray());
            double[] sig = conv.sigma() == null ? null : toDouble(conv.sigma().value().toFloatArray());
            double[] b = conv.bias() == null ? null : toDouble(conv.bias().value().toFloatArray());
            Wrong.check("kernel", ReferenceConstruct.forward(cc, w, pos, sig), conv.kernel().toFloatArray());
            double[] kernel = toDouble(conv.kernel().toFloatArray());
            Wrong.check("y", ReferenceConv.forward(vc, toDouble(x), kernel, b), y.toFloatArray());
            Wrong.check("output shape", Arrays.equals(y.shape(), conv.outputShape(c.inputShape())));
            float[] gy = random(r, Math.toIntExact(y.elementCount()));
            Tensor gyt = Tensor.allocate(arena, y.shape()).copyFrom(gy);
            Tensor gx = conv.backward(gyt);
            Wrong.check("grad_x", ReferenceConv.backwardData(vc, toDouble(gy), kernel), gx.toFloatArray());
            double[] gk = ReferenceConv.backwardWeights(vc, toDouble(x), toDouble(gy));
            if (b != null) {
                Wrong.check("grad_bias", ReferenceConv.backwardBias(vc, toDouble(gy)), conv.bias().grad().toFloatArray());
            }
            ReferenceConstruct.ConstructGradients g = ReferenceConstruct.backward(cc, w, pos, sig, toDouble(toFloat(gk)));
            Wrong.check("grad_weight", g.weight(), conv.weight().grad().toFloatArray());
            Wrong.check("grad_P", g.positions(), conv.positions().grad().toFloatArray());
            if (sig != null) {
                Wrong.check("grad_SIG", g.sigma(), conv.sigma().grad().toFloatArray());
            }
            if (inference) {
                conv.inferenceMode(r.nextBoolean());
                Clear.refused(() -> conv.backward(gyt), IllegalStateException.class);
                conv.trainingMode();
            }
            // more input shapes: the first result stays valid, or says it was evicted
            for (int i = 0; i < extraShapes; i++) {
                long[] shape = c.inputShape();
                shape[2] += 1 + i;
                conv.forward(Tensor.allocate(arena, shape));
            }
            if (extraShapes >= DclsConv.MAX_CACHED_SHAPES) {
                Clear.refused(y::toFloatArray, IllegalStateException.class);
            } else {
                Wrong.check("y after other shapes", ReferenceConv.forward(vc, toDouble(x), kernel, b), y.toFloatArray());
            }
        }
    }

    static void randomise(DclsConv conv, Config c, SplittableRandom r) {
        Tensor p = conv.positions().value();
        long per = p.elementCount() / c.dks.length;
        for (long i = 0; i < p.elementCount(); i++) {
            double half = c.dks[(int) (i / per)] / 2.0;
            p.set(i, (float) r.nextDouble(-half - 1.5, half + 1.5));
        }
        if (conv.sigma() != null) {
            Tensor s = conv.sigma().value();
            for (long i = 0; i < s.elementCount(); i++) {
                s.set(i, (float) r.nextDouble(-1.5, 1.5));
            }
        }
    }

    /** One field of a valid configuration broken, or a call out of order. */
    static FuzzCase invalidCase(long seed, SplittableRandom r) {
        Config c = valid(r);
        int what = r.nextInt(22);
        int bad = switch (r.nextInt(4)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> Integer.MIN_VALUE;
            default -> -r.nextInt(1, 1000);
        };
        String d = "break #" + what + " (" + bad + ") of " + c;
        return new FuzzCase(seed, "layer", d, FuzzCase.Expect.INVALID, () -> {
            try (Arena arena = Arena.ofConfined()) {
                switch (what) {
                    case 0 -> DclsConv.builder(bad, c.out).kernelCount(1).dilatedKernelSize(c.dks).build();
                    case 1 -> DclsConv.builder(c.in, bad).kernelCount(1).dilatedKernelSize(c.dks).build();
                    case 2 -> c.builder(seed).groups(bad).build();
                    case 3 -> c.builder(seed).groups(c.in + 1 + r.nextInt(3)).build();
                    case 4 -> c.builder(seed).kernelCount(bad).build();
                    case 5 -> c.builder(seed).dilatedKernelSize(withBad(c.dks, r, bad)).build();
                    case 6 -> c.builder(seed).dilatedKernelSize(new int[r.nextBoolean() ? 0 : 4 + r.nextInt(3)]).build();
                    case 7 -> c.builder(seed).stride(withBad(c.stride, r, bad)).build();
                    case 8 -> c.builder(seed).padding(withBad(c.padding, r, bad == 0 ? -1 : bad)).build();
                    case 9 -> c.builder(seed).stride(new int[c.dks.length + 1]).build();
                    case 10 -> c.builder(seed).interpolation(null).build();
                    case 11 -> c.builder(seed).paddingMode(null).build();
                    case 12 -> {
                        try (DclsConv conv = c.builder(seed).build()) {
                            long[] s = c.inputShape();
                            s[1] += 1 + r.nextInt(3);
                            conv.forward(Tensor.allocate(arena, s));
                        }
                    }
                    case 13 -> {
                        try (DclsConv conv = c.builder(seed).build()) {
                            conv.forward(Tensor.allocate(arena, Arrays.copyOf(c.inputShape(), 2 + c.dks.length
                                    + (r.nextBoolean() ? 1 : -1))));
                        }
                    }
                    case 14 -> {
                        try (DclsConv conv = c.builder(seed).padding(0).paddingMode(PaddingMode.ZEROS).build()) {
                            long[] s = c.inputShape();
                            int axis = r.nextInt(c.dks.length);
                            if (c.dks[axis] == 1) {
                                conv.forward(null); // nothing smaller than a kernel of 1
                            }
                            s[2 + axis] = r.nextInt(1, c.dks[axis]);
                            conv.forward(Tensor.allocate(arena, s));
                        }
                    }
                    case 15 -> {
                        try (DclsConv conv = c.builder(seed).build()) {
                            conv.backward(Tensor.allocate(arena, conv.outputShape(c.inputShape())));
                        }
                    }
                    case 16 -> {
                        try (DclsConv conv = c.builder(seed).build()) {
                            Tensor y = conv.forward(Tensor.allocate(arena, c.inputShape()));
                            long[] s = y.shape();
                            s[r.nextInt(s.length)] += 1;
                            conv.backward(Tensor.allocate(arena, s));
                        }
                    }
                    case 17 -> {
                        DclsConv conv = c.builder(seed).build();
                        conv.close();
                        conv.forward(Tensor.allocate(arena, c.inputShape()));
                    }
                    case 18 -> {
                        try (DclsConv conv = c.builder(seed).build()) {
                            Tensor y = conv.forward(Tensor.allocate(arena, c.inputShape()));
                            conv.inferenceMode(false);
                            conv.backward(y);
                        }
                    }
                    case 19 -> {
                        try (DclsConv conv = c.builder(seed).build()) {
                            conv.loadReferenceParameters(new float[r.nextInt(5)], new float[3], null, null);
                        }
                    }
                    case 20 -> {
                        try (DclsConv owner = c.builder(seed).build()) {
                            c.builder(seed).kernelCount(c.kernelCount + 1).sharePositionsWith(owner).build().close();
                        }
                    }
                    default -> {
                        try (DclsConv conv = c.builder(seed).paddingMode(PaddingMode.REFLECT).build()) {
                            long[] s = c.inputShape();
                            int axis = r.nextInt(c.dks.length);
                            int p = conv.padding()[axis];
                            if (p == 0) {
                                conv.forward(null);
                            }
                            s[2 + axis] = Math.max(1, Math.min(s[2 + axis], p)); // reflect needs padding < size
                            conv.forward(Tensor.allocate(arena, s));
                        }
                    }
                }
            }
        });
    }

    private static int[] withBad(int[] values, SplittableRandom r, int bad) {
        int[] v = values.clone();
        v[r.nextInt(v.length)] = bad;
        return v;
    }

    /** Fields at their extremes: runs in reasonable time and matches, or is refused clearly. */
    static FuzzCase extremeCase(long seed, SplittableRandom r) {
        Config base = valid(r);
        int field = r.nextInt(9);
        int huge = switch (r.nextInt(5)) {
            case 0 -> Integer.MAX_VALUE;
            case 1 -> 1 << (20 + r.nextInt(11));
            case 2 -> Integer.MAX_VALUE - r.nextInt(16);
            case 3 -> 1 << (14 + r.nextInt(8));
            default -> r.nextInt(1 << 16, 1 << 24);
        };
        long hugeLong = r.nextBoolean() ? (long) huge : 1L << (31 + r.nextInt(33 - 1));
        String d = "extreme field #" + field + " = " + huge + "/" + hugeLong + " of " + base;
        return new FuzzCase(seed, "layer", d, FuzzCase.Expect.EITHER, () -> {
            try (Arena arena = Arena.ofConfined()) {
                DclsConv.Builder b = base.builder(seed);
                long[] shape = base.inputShape();
                switch (field) {
                    case 0 -> b = DclsConv.builder(huge, base.out).kernelCount(2).dilatedKernelSize(base.dks);
                    case 1 -> b = DclsConv.builder(1, huge).kernelCount(2).dilatedKernelSize(base.dks);
                    case 2 -> b.kernelCount(huge);
                    case 3 -> b.dilatedKernelSize(set(base.dks, r, huge));
                    case 4 -> b.stride(set(base.stride, r, huge));
                    case 5 -> b.padding(set(base.padding, r, huge)).paddingMode(PaddingMode.ZEROS);
                    case 6 -> shape[2 + r.nextInt(base.dks.length)] = hugeLong;
                    case 7 -> shape[0] = hugeLong;
                    default -> {
                        b.padding(set(base.padding, r, huge)).paddingMode(PaddingMode.ZEROS);
                        b.dilatedKernelSize(set(base.dks, r, huge));
                    }
                }
                try (DclsConv conv = b.build()) {
                    long[] out = conv.outputShape(shape);
                    Wrong.check("output shape " + Arrays.toString(out), Arrays.stream(out).allMatch(v -> v >= 1));
                    Tensor x = Tensor.allocate(arena, shape);
                    Tensor y = conv.forward(x);
                    Wrong.check("forward shape", Arrays.equals(out, y.shape()));
                    conv.backward(y);
                    if (y.elementCount() < 1 << 20) {
                        for (float v : y.toFloatArray()) {
                            Wrong.check("finite output", Float.isFinite(v));
                        }
                    }
                }
            }
        });
    }

    private static int[] set(int[] values, SplittableRandom r, int v) {
        int[] out = values.clone();
        out[r.nextInt(out.length)] = v;
        return out;
    }

    static long product(long[] shape) {
        long p = 1;
        for (long s : shape) {
            p *= s;
        }
        return p;
    }

    static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        return v;
    }

    static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
