package io.dcls4j.ops;

import io.dcls4j.Dcls;
import io.dcls4j.Interpolation;
import io.dcls4j.PaddingMode;
import io.dcls4j.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Convolution#setKernelCells}: with the tap-sparse engine forced on (and off, and left to the cost model), a
 * plan told the construction's cells gives the output, input gradient and - through the construction's backward -
 * the weight, position and sigma gradients of a plan convolving with the whole kernel, across interpolations, 1 to 3
 * dimensions, groups, depthwise and strides. And the checks before the native call.
 */
class KernelCellsTest {

    @AfterEach
    void restore() {
        Dcls.setEngineOption("sparse_conv", "auto");
    }

    static IntStream seeds() {
        return IntStream.range(0, 36);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void cellsGiveTheWholeKernelsResults(int seed) {
        String mode = new String[] {"always", "never", "auto"}[seed % 3];
        Dcls.setEngineOption("sparse_conv", mode);
        SplittableRandom r = new SplittableRandom(seed);
        Interpolation interp = Interpolation.values()[(seed / 3) % 4];
        int ndim = 1 + (seed / 12) % 3;
        int[] dks = new int[ndim];
        int[] in = new int[ndim];
        int[] stride = new int[ndim];
        int[] pad = new int[ndim];
        for (int d = 0; d < ndim; d++) {
            dks[d] = 3 + 2 * r.nextInt(ndim == 1 ? 12 : ndim == 2 ? 5 : 2);
            in[d] = dks[d] + r.nextInt(8);
            stride[d] = 1 + r.nextInt(2);
            pad[d] = dks[d] / 2;
        }
        boolean depthwise = seed % 4 == 1;
        int groups = depthwise ? 4 : 1 + r.nextInt(2);
        int cin = depthwise ? 4 : groups * (1 + r.nextInt(3));
        int cout = depthwise ? 4 : groups * (1 + r.nextInt(3));
        int count = 1 + r.nextInt(4);
        ConstructConfig cc = new ConstructConfig(interp, cout, cin / groups, count, dks);
        ConvConfig config = new ConvConfig(2, cin, cout, groups, in, dks, stride, pad, PaddingMode.ZEROS);
        KernelConstruction construction = new KernelConstruction(cc);
        double spread = seed % 2 == 0 ? dks[0] / 2.0 : 1.0;
        try (Arena arena = Arena.ofConfined();
             Convolution whole = new Convolution(config);
             Convolution cells = new Convolution(config)) {
            Tensor w = random(arena, r, construction.weightShape(), 1);
            Tensor p = random(arena, r, construction.positionShape(), spread);
            Tensor s = interp.learnsSigma() ? random(arena, r, construction.positionShape(), 0.5) : null;
            if (s != null) {
                for (long i = 0; i < s.elementCount(); i++) {
                    s.set(i, Math.abs(s.get(i)) + 0.2f);
                }
            }
            Tensor kernel = Tensor.allocate(arena, construction.kernelShape());
            construction.forward(w, p, s, kernel);
            Tensor x = random(arena, r, whole.inputShape(), 1);
            Tensor bias = random(arena, r, new long[] {cout}, 1);
            Tensor gy = random(arena, r, whole.outputShape(), 1);

            cells.setKernelCells(construction, p, s, true);
            Result expected = run(arena, whole, construction, w, p, s, kernel, x, bias, gy);
            Result actual = run(arena, cells, construction, w, p, s, kernel, x, bias, gy);
            String where = mode + " " + interp + " " + config + " K=" + count + ": " + cells.engineInfo();
            if (mode.equals("always")) {
                assertTrue(cells.engineInfo().contains("sparse"), where);
            }
            close(expected.y, actual.y, "y", where);
            close(expected.gradX, actual.gradX, "grad x", where);
            close(expected.gradBias, actual.gradBias, "grad bias", where);
            close(expected.gradW, actual.gradW, "grad weight", where);
            close(expected.gradP, actual.gradP, "grad P", where);
            if (s != null) {
                close(expected.gradS, actual.gradS, "grad SIG", where);
            }
        }
    }

    private record Result(Tensor y, Tensor gradX, Tensor gradBias, Tensor gradW, Tensor gradP, Tensor gradS) {}

    private static Result run(Arena arena, Convolution conv, KernelConstruction construction, Tensor w, Tensor p,
                              Tensor s, Tensor kernel, Tensor x, Tensor bias, Tensor gy) {
        Tensor y = Tensor.allocate(arena, conv.outputShape());
        Tensor gx = Tensor.allocate(arena, conv.inputShape());
        Tensor gk = Tensor.allocate(arena, conv.kernelShape());
        Tensor gb = Tensor.allocate(arena, bias.shape());
        Tensor gw = Tensor.allocate(arena, construction.weightShape());
        Tensor gp = Tensor.allocate(arena, construction.positionShape());
        Tensor gs = s == null ? null : Tensor.allocate(arena, construction.positionShape());
        conv.forward(x, kernel, bias, y);
        conv.backwardData(gy, kernel, gx);
        conv.backwardWeights(x, gy, gk, gb, false);
        construction.backward(w, p, s, gk, gw, gp, gs, false);
        return new Result(y, gx, gb, gw, gp, gs);
    }

    /** Within 1e-4 of the larger of 1 and the expected tensor's largest magnitude (float sums in other orders). */
    private static void close(Tensor expected, Tensor actual, String what, String where) {
        double scale = 1;
        for (long i = 0; i < expected.elementCount(); i++) {
            scale = Math.max(scale, Math.abs(expected.get(i)));
        }
        for (long i = 0; i < expected.elementCount(); i++) {
            double d = Math.abs(expected.get(i) - actual.get(i));
            assertTrue(d <= 1e-4 * scale, what + "[" + i + "]: " + actual.get(i) + " against " + expected.get(i)
                    + " (" + where + ")");
        }
    }

    private static Tensor random(Arena arena, SplittableRandom r, long[] shape, double range) {
        Tensor t = Tensor.allocate(arena, shape);
        for (long i = 0; i < t.elementCount(); i++) {
            t.set(i, (float) r.nextDouble(-range, range));
        }
        return t;
    }

    @Test
    void aConstructionOfAnotherKernelIsRefusedBeforeTheNativeCall() {
        ConvConfig config = new ConvConfig(1, 2, 3, 1, new int[] {9, 9}, new int[] {5, 5}, new int[] {1, 1},
                new int[] {2, 2}, PaddingMode.ZEROS);
        try (Arena arena = Arena.ofConfined(); Convolution conv = new Convolution(config)) {
            KernelConstruction wrong = new KernelConstruction(
                    new ConstructConfig(Interpolation.BILINEAR, 3, 2, 2, new int[] {7, 7}));
            Tensor p = Tensor.allocate(arena, wrong.positionShape());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> conv.setKernelCells(wrong, p, null, true));
            assertTrue(e.getMessage().contains("[3, 2, 7, 7]") && e.getMessage().contains("[3, 2, 5, 5]"),
                    e.getMessage());
            KernelConstruction right = new KernelConstruction(
                    new ConstructConfig(Interpolation.GAUSSIAN, 3, 2, 2, new int[] {5, 5}));
            Tensor q = Tensor.allocate(arena, right.positionShape());
            assertThrows(IllegalArgumentException.class, () -> conv.setKernelCells(right, q, null, true),
                    "a Gaussian needs sigma");
            assertThrows(IllegalArgumentException.class, () -> conv.setKernelCells(null, q, null, true));
        }
    }
}
