package io.dcls4j.vector;

import io.dcls4j.DclsConv;
import io.dcls4j.Interpolation;
import io.dcls4j.PaddingMode;
import io.dcls4j.Tensor;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;
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
import static io.dcls4j.vector.RandomData.random;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The whole layer, forward and backward, against the float64 reference chain. */
class VectorDclsTest {

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
        VectorDcls layer = new VectorDcls(cc, l.groups(), l.stride(), l.padding(), l.mode(), true);
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
        System.arraycopy(w, 0, layer.weight(), 0, w.length);
        System.arraycopy(p, 0, layer.positions(), 0, p.length);
        if (s != null) {
            System.arraycopy(s, 0, layer.sigma(), 0, s.length);
        }
        System.arraycopy(b, 0, layer.bias(), 0, b.length);

        ConvConfig vc = layer.convConfig(l.batch(), l.input());
        float[] x = random(r, vc.inputLength());
        float[] gy = random(r, vc.outputLength());

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

        close("y " + l, y, layer.forward(x, l.batch(), l.input()));
        close("kernel " + l, kernel, layer.kernel());
        layer.zeroGrad();
        float[] gradX = layer.backward(gy);
        close("grad x " + l, gx, gradX);
        close("grad weight " + l, g.weight(), layer.gradWeight());
        close("grad positions " + l, g.positions(), layer.gradPositions());
        if (s != null) {
            close("grad sigma " + l, g.sigma(), layer.gradSigma());
        }
        close("grad bias " + l, gb, layer.gradBias());

        // a second step accumulates
        layer.forward(x, l.batch(), l.input());
        layer.backward(gy);
        close("accumulated grad weight " + l, twice(g.weight()), layer.gradWeight());
        close("accumulated grad positions " + l, twice(g.positions()), layer.gradPositions());
        close("accumulated grad bias " + l, twice(gb), layer.gradBias());
    }

    @Test
    void copiesTheNativeLayerAndAgreesWithIt() {
        try (Arena arena = Arena.ofConfined();
             DclsConv conv = DclsConv.builder(8, 8).groups(8).kernelCount(6).dilatedKernelSize(9, 9)
                     .padding(4, 4).interpolation(Interpolation.GAUSSIAN).seed(5).build()) {
            Random r = new Random(11);
            long[] shape = {2, 8, 13, 21};
            Tensor x = Tensor.allocate(arena, shape).copyFrom(random(r, 2 * 8 * 13 * 21));
            VectorDcls layer = VectorDcls.copyOf(conv);
            float[] expected = conv.forward(x).toFloatArray();
            close("forward of the copy against the native layer", toDouble(expected), layer.forward(x));
            Tensor gy = Tensor.allocate(arena, conv.outputShape(shape)).copyFrom(random(r, expected.length));
            conv.zeroGrad();
            float[] nativeGx = conv.backward(gy).toFloatArray();
            layer.zeroGrad();
            close("grad x of the copy against the native layer", toDouble(nativeGx), layer.backward(gy));
            close("grad positions of the copy against the native layer",
                    toDouble(conv.positions().grad().toFloatArray()), layer.gradPositions());
        }
    }

    @Test
    void backwardNeedsForwardAndTheRightShape() {
        ConstructConfig cc = new ConstructConfig(Interpolation.BILINEAR, 2, 2, 3, new int[]{5});
        VectorDcls layer = new VectorDcls(cc, 1, new int[]{1}, new int[]{2}, PaddingMode.ZEROS, false);
        assertThrows(IllegalStateException.class, () -> layer.backward(new float[4]));
        layer.forward(new float[2 * 2 * 10], 2, 10);
        assertThrows(IllegalArgumentException.class, () -> layer.backward(new float[3]));
    }

    private static double[] twice(double[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = 2 * a[i];
        }
        return out;
    }
}
