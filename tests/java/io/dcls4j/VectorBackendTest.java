package io.dcls4j;

import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;
import io.dcls4j.ops.Convolution;
import io.dcls4j.ops.KernelConstruction;
import io.dcls4j.reference.ReferenceConstruct;
import io.dcls4j.reference.ReferenceConv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static io.dcls4j.Compare.close;
import static io.dcls4j.Compare.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pure-Java backend ({@link Backend#VECTOR_API}) behind the layer API: the whole layer, forward and backward,
 * against the float64 reference chain, and against the native layer.
 */
class VectorBackendTest {

    record Layer(Interpolation interpolation, int cin, int cout, int groups, int count, int[] dks, int[] stride,
                 int[] padding, PaddingMode mode, int batch, int[] input, double spread) {
        Layer(Interpolation interpolation, int cin, int cout, int groups, int count, int[] dks, int[] stride,
              int[] padding, PaddingMode mode, int batch, int[] input) {
            this(interpolation, cin, cout, groups, count, dks, stride, padding, mode, batch, input, 1.0);
        }
    }

    static Stream<Arguments> layers() {
        List<Arguments> list = new ArrayList<>();
        PaddingMode z = PaddingMode.ZEROS;
        for (Interpolation i : Interpolation.values()) {
            // depthwise 2-D (the benchmark's kind), dense 2-D, 1-D, 3-D, grouped with stride, other padding
            list.add(Arguments.of(new Layer(i, 6, 6, 6, 5, new int[]{9, 9}, new int[]{1, 1}, new int[]{4, 4}, z, 2,
                    new int[]{11, 20})));
            list.add(Arguments.of(new Layer(i, 3, 8, 1, 3, new int[]{5, 5}, new int[]{1, 1}, new int[]{2, 2}, z, 2,
                    new int[]{8, 17})));
            list.add(Arguments.of(new Layer(i, 4, 4, 1, 4, new int[]{13}, new int[]{1}, new int[]{6}, z, 2,
                    new int[]{70})));
            list.add(Arguments.of(new Layer(i, 2, 4, 2, 3, new int[]{3, 4, 5}, new int[]{1, 2, 1},
                    new int[]{1, 1, 2}, z, 1, new int[]{4, 6, 9})));
            list.add(Arguments.of(new Layer(i, 4, 10, 2, 2, new int[]{4, 6}, new int[]{2, 3}, new int[]{1, 2},
                    PaddingMode.REFLECT, 2, new int[]{7, 19})));
            list.add(Arguments.of(new Layer(i, 3, 6, 3, 4, new int[]{7, 5}, new int[]{1, 1}, new int[]{3, 2},
                    PaddingMode.CIRCULAR, 1, new int[]{9, 33})));
            // positions near the centre (as at initialisation): small supports, zero kernel rows and columns
            list.add(Arguments.of(new Layer(i, 5, 5, 5, 6, new int[]{13, 11}, new int[]{1, 1}, new int[]{6, 5}, z, 2,
                    new int[]{12, 37}, 0.15)));
            list.add(Arguments.of(new Layer(i, 4, 8, 1, 3, new int[]{9, 9}, new int[]{1, 1}, new int[]{4, 4}, z, 2,
                    new int[]{10, 20}, 0.15)));
        }
        return list.stream();
    }

    @ParameterizedTest
    @MethodSource("layers")
    void forwardAndBackwardMatchReference(Layer l) {
        Random r = new Random(l.hashCode());
        ConstructConfig cc = new ConstructConfig(l.interpolation(), l.cout(), l.cin() / l.groups(), l.count(),
                l.dks());
        try (Arena arena = Arena.ofConfined();
             DclsConv layer = DclsConv.builder(l.cin(), l.cout()).groups(l.groups()).kernelCount(l.count())
                     .dilatedKernelSize(l.dks()).stride(l.stride()).padding(l.padding()).paddingMode(l.mode())
                     .interpolation(l.interpolation()).backend(Backend.VECTOR_API).build()) {
            assertEquals(Backend.VECTOR_API, layer.backend());
            float[] w = random(r, cc.elementCount());
            float[] p = random(r, cc.positionLength());
            int elements = cc.elementCount();
            for (int d = 0; d < l.dks().length; d++) {
                for (int e = 0; e < elements; e++) {
                    p[d * elements + e] *= (float) (l.spread() * l.dks()[d] / 2); // spread over the kernel
                }
            }
            float[] s = l.interpolation().learnsSigma() ? random(r, cc.positionLength()) : null;
            float[] b = random(r, cc.outChannels());
            layer.weight().value().copyFrom(w);
            layer.positions().value().copyFrom(p);
            if (s != null) {
                layer.sigma().value().copyFrom(s);
            }
            layer.bias().value().copyFrom(b);

            long[] inputShape = shape(l.batch(), l.cin(), l.input());
            ConvConfig vc = new ConvConfig(l.batch(), l.cin(), l.cout(), l.groups(), l.input(), l.dks(), l.stride(),
                    l.padding(), l.mode());
            float[] x = random(r, vc.inputLength());
            float[] gy = random(r, vc.outputLength());
            Tensor xt = Tensor.allocate(arena, inputShape).copyFrom(x);
            Tensor gyt = Tensor.allocate(arena, layer.outputShape(inputShape)).copyFrom(gy);

            double[] wd = toDouble(w);
            double[] pd = toDouble(p);
            double[] sd = s == null ? null : toDouble(s);
            double[] xd = toDouble(x);
            double[] gyd = toDouble(gy);
            double[] kernel = ReferenceConstruct.forward(cc, wd, pd, sd);
            double[] y = ReferenceConv.forward(vc, xd, kernel, toDouble(b));
            double[] gk = ReferenceConv.backwardWeights(vc, xd, gyd);
            ReferenceConstruct.ConstructGradients g = ReferenceConstruct.backward(cc, wd, pd, sd, gk);
            double[] gx = ReferenceConv.backwardData(vc, gyd, kernel);
            double[] gb = ReferenceConv.backwardBias(vc, gyd);

            close("y " + l, y, layer.forward(xt).toFloatArray());
            close("kernel " + l, kernel, layer.kernel().toFloatArray());
            layer.zeroGrad();
            close("grad x " + l, gx, layer.backward(gyt).toFloatArray());
            close("grad weight " + l, g.weight(), layer.weight().grad().toFloatArray());
            close("grad positions " + l, g.positions(), layer.positions().grad().toFloatArray());
            if (s != null) {
                close("grad sigma " + l, g.sigma(), layer.sigma().grad().toFloatArray());
            }
            close("grad bias " + l, gb, layer.bias().grad().toFloatArray());

            // a second step accumulates
            layer.forward(xt);
            layer.backward(gyt);
            close("accumulated grad weight " + l, twice(g.weight()), layer.weight().grad().toFloatArray());
            close("accumulated grad positions " + l, twice(g.positions()), layer.positions().grad().toFloatArray());
            close("accumulated grad bias " + l, twice(gb), layer.bias().grad().toFloatArray());
        }
    }

    /** Same seed, same parameters: the Java layer's every result is the native layer's, within float32 rounding. */
    @ParameterizedTest
    @MethodSource("interpolations")
    void agreesWithTheNativeLayer(Interpolation interpolation) {
        try (Arena arena = Arena.ofConfined();
             DclsConv conv = nativeLayer(interpolation);
             DclsConv java = DclsConv.builder(8, 8).groups(8).kernelCount(6).dilatedKernelSize(9, 9).padding(4, 4)
                     .interpolation(interpolation).seed(5).backend(Backend.VECTOR_API).build()) {
            Random r = new Random(11);
            long[] shape = {2, 8, 13, 21};
            Tensor x = Tensor.allocate(arena, shape).copyFrom(random(r, 2 * 8 * 13 * 21));
            float[] expected = conv.forward(x).toFloatArray();
            close("forward against the native layer", toDouble(expected), java.forward(x).toFloatArray());
            Tensor gy = Tensor.allocate(arena, conv.outputShape(shape)).copyFrom(random(r, expected.length));
            conv.zeroGrad();
            java.zeroGrad();
            close("grad x against the native layer", toDouble(conv.backward(gy).toFloatArray()),
                    java.backward(gy).toFloatArray());
            for (int i = 0; i < conv.parameters().size(); i++) {
                Parameter n = conv.parameters().get(i);
                close("grad " + n.name() + " against the native layer", toDouble(n.grad().toFloatArray()),
                        java.parameters().get(i).grad().toFloatArray());
            }
            assertTrue(java.engineInfo().contains("forward=java:vector_api"), java.engineInfo());

            // inference mode rounds and clamps in Java: the same kernel and output as the native layer's
            conv.positions().value().copyFrom(spreadPositions(conv.positions().value().toFloatArray()));
            java.positions().value().copyFrom(conv.positions().value().toFloatArray());
            conv.clampPositions();
            java.clampPositions();
            assertArrayEquals(conv.positions().value().toFloatArray(), java.positions().value().toFloatArray());
            close("inference kernel against the native layer", toDouble(conv.inferenceMode(true).kernel()
                    .toFloatArray()), java.inferenceMode(true).kernel().toFloatArray());
            close("inference forward against the native layer", toDouble(conv.forward(x).toFloatArray()),
                    java.forward(x).toFloatArray());
        }
    }

    static Stream<Interpolation> interpolations() {
        return Stream.of(Interpolation.values());
    }

    private static DclsConv nativeLayer(Interpolation interpolation) {
        return DclsConv.builder(8, 8).groups(8).kernelCount(6).dilatedKernelSize(9, 9).padding(4, 4)
                .interpolation(interpolation).seed(5).build();
    }

    /** Positions over and past the kernel, some at halves: the clamp and rounding half to even both matter. */
    private static float[] spreadPositions(float[] p) {
        for (int i = 0; i < p.length; i++) {
            p[i] = i % 5 == 0 ? (i % 2 == 0 ? 2.5f : -1.5f) : p[i] * 7f;
        }
        return p;
    }

    /** The ops alone: a Java plan and construction, given the same tensors as the native ones. */
    @Test
    void theOpsTakeTheBackendToo() {
        ConstructConfig cc = new ConstructConfig(Interpolation.TRIANGLE, 4, 2, 3, new int[]{7});
        ConvConfig vc = new ConvConfig(3, 4, 4, 2, new int[]{30}, new int[]{7}, new int[]{2}, new int[]{3},
                PaddingMode.REPLICATE);
        Random r = new Random(3);
        try (Arena arena = Arena.ofConfined();
             Convolution nativePlan = new Convolution(vc);
             Convolution javaPlan = new Convolution(vc, Device.cpu(), Backend.VECTOR_API, false)) {
            KernelConstruction nativeK = new KernelConstruction(cc);
            KernelConstruction javaK = new KernelConstruction(cc, Backend.VECTOR_API);
            Tensor w = Tensor.allocate(arena, cc.weightShape()).copyFrom(random(r, cc.elementCount()));
            Tensor p = Tensor.allocate(arena, cc.positionShape()).copyFrom(random(r, cc.positionLength()));
            Tensor k1 = Tensor.allocate(arena, cc.kernelShape());
            Tensor k2 = Tensor.allocate(arena, cc.kernelShape());
            nativeK.forward(w, p, null, k1);
            javaK.forward(w, p, null, k2);
            close("Java construction", toDouble(k1.toFloatArray()), k2.toFloatArray());

            Tensor x = Tensor.allocate(arena, vc.inputShape()).copyFrom(random(r, vc.inputLength()));
            Tensor gy = Tensor.allocate(arena, vc.outputShape()).copyFrom(random(r, vc.outputLength()));
            Tensor b = Tensor.allocate(arena, 4).copyFrom(random(r, 4));
            Tensor y1 = Tensor.allocate(arena, vc.outputShape());
            Tensor y2 = Tensor.allocate(arena, vc.outputShape());
            nativePlan.forward(x, k1, b, y1);
            javaPlan.forward(x, k1, b, y2);
            close("Java forward", toDouble(y1.toFloatArray()), y2.toFloatArray());
            // accumulating adds to what is there, the kernel and bias gradients alike
            Tensor gk1 = Tensor.allocate(arena, cc.kernelShape()).copyFrom(random(r, cc.kernelLength()));
            Tensor gk2 = Tensor.allocate(arena, cc.kernelShape()).copyFrom(gk1);
            Tensor gb1 = Tensor.allocate(arena, 4).copyFrom(random(r, 4));
            Tensor gb2 = Tensor.allocate(arena, 4).copyFrom(gb1);
            Tensor gk3 = Tensor.allocate(arena, cc.kernelShape()).copyFrom(gk1);
            Tensor gb3 = Tensor.allocate(arena, 4).copyFrom(gb1);
            nativePlan.backwardWeights(x, gy, gk1, gb1, true);
            javaPlan.backwardWeights(x, gy, gk2, gb2, true);
            close("Java accumulated kernel gradient", toDouble(gk1.toFloatArray()), gk2.toFloatArray());
            close("Java accumulated bias gradient", toDouble(gb1.toFloatArray()), gb2.toFloatArray());
            Tensor gx1 = Tensor.allocate(arena, vc.inputShape());
            Tensor gx2 = Tensor.allocate(arena, vc.inputShape());
            nativePlan.backwardData(gy, k1, gx1);
            javaPlan.backwardData(gy, k1, gx2);
            close("Java data gradient", toDouble(gx1.toFloatArray()), gx2.toFloatArray());
            // both gradients in one call, gradY read once
            Tensor gx3 = Tensor.allocate(arena, vc.inputShape());
            javaPlan.backward(x, gy, k1, gk3, gb3, true, gx3);
            close("Java fused kernel gradient", toDouble(gk1.toFloatArray()), gk3.toFloatArray());
            close("Java fused bias gradient", toDouble(gb1.toFloatArray()), gb3.toFloatArray());
            close("Java fused data gradient", toDouble(gx1.toFloatArray()), gx3.toFloatArray());
            assertEquals(Backend.VECTOR_API, javaPlan.backend());
        }
    }

    @Test
    void refusesWhatItCannotRun() {
        IllegalArgumentException gpu = assertThrows(IllegalArgumentException.class,
                () -> DclsConv.builder(2, 2).kernelCount(2).dilatedKernelSize(5).device(Device.cuda(0))
                        .backend(Backend.VECTOR_API).build());
        assertTrue(gpu.getMessage().contains("CPU only"), gpu.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> DclsConv.builder(2, 2).kernelCount(2).dilatedKernelSize(5).backend(null).build());
        // the reference Dcls2_1d's Gaussian has another sigma offset, which the Java construction does not know
        IllegalArgumentException offset = assertThrows(IllegalArgumentException.class,
                () -> DclsConv.builder(2, 2).kernelCount(2).dilatedKernelSize(5).denseKernelSize(3)
                        .interpolation(Interpolation.GAUSSIAN).backend(Backend.VECTOR_API).build());
        assertTrue(offset.getMessage().contains("offset"), offset.getMessage());
        try (DclsConv layer = DclsConv.builder(2, 2).kernelCount(3).dilatedKernelSize(5).padding(2)
                .backend(Backend.VECTOR_API).build(); Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalStateException.class, () -> layer.backward(Tensor.allocate(arena, 2, 2, 10)));
            layer.forward(Tensor.allocate(arena, 2, 2, 10));
            assertThrows(IllegalArgumentException.class, () -> layer.backward(Tensor.allocate(arena, 2, 2, 3)));
        }
    }

    private static long[] shape(int batch, int channels, int[] spatial) {
        long[] s = new long[2 + spatial.length];
        s[0] = batch;
        s[1] = channels;
        for (int d = 0; d < spatial.length; d++) {
            s[2 + d] = spatial[d];
        }
        return s;
    }

    /** Uniform in [-1, 1), rounded to float so that both implementations see the same numbers. */
    private static float[] random(Random r, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (2 * r.nextDouble() - 1);
        }
        return out;
    }

    private static double[] twice(double[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = 2 * a[i];
        }
        return out;
    }
}
