package io.dcls4j.reference;

import io.dcls4j.ops.ConvConfig;
import io.dcls4j.PaddingMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Padding semantics, finite-difference gradient checks and adjoint identities of {@link ReferenceConv}. */
class ReferenceConvTest {

    static Stream<Arguments> configs() {
        List<Arguments> configs = new ArrayList<>();
        for (PaddingMode mode : PaddingMode.values()) {
            for (int groups : new int[]{1, 2}) {
                for (int stride : new int[]{1, 2}) {
                    configs.add(Arguments.of(new ConvConfig(2, 4, 2 * groups, groups, new int[]{7}, new int[]{3},
                            new int[]{stride}, new int[]{2}, mode)));
                    configs.add(Arguments.of(new ConvConfig(2, 2 * groups, 2, groups, new int[]{5, 4},
                            new int[]{3, 2}, new int[]{stride, 1}, new int[]{2, 1}, mode)));
                    configs.add(Arguments.of(new ConvConfig(1, 2, 2 * groups, groups, new int[]{3, 4, 3},
                            new int[]{2, 3, 1}, new int[]{1, stride, stride}, new int[]{1, 2, 0}, mode)));
                }
            }
        }
        return configs.stream();
    }

    private static double[] random(Random r, int n) {
        return r.doubles(n, -1, 1).toArray();
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static double[] numericGradient(double[] x, Function<double[], Double> f) {
        double h = 1e-5;
        double[] grad = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double[] plus = x.clone();
            double[] minus = x.clone();
            plus[i] += h;
            minus[i] -= h;
            grad[i] = (f.apply(plus) - f.apply(minus)) / (2 * h);
        }
        return grad;
    }

    @ParameterizedTest
    @MethodSource("configs")
    void gradientsMatchFiniteDifferences(ConvConfig c) {
        Random r = new Random(c.hashCode());
        double[] x = random(r, c.inputLength());
        double[] kernel = random(r, c.kernelLength());
        double[] bias = random(r, c.outChannels());
        double[] gy = random(r, c.outputLength());

        // L = sum(y * gy) is linear in each argument, so central differences are exact up to rounding.
        double[] gx = numericGradient(x, v -> dot(ReferenceConv.forward(c, v, kernel, bias), gy));
        double[] gk = numericGradient(kernel, v -> dot(ReferenceConv.forward(c, x, v, bias), gy));
        double[] gb = numericGradient(bias, v -> dot(ReferenceConv.forward(c, x, kernel, v), gy));
        assertArrayEquals(gx, ReferenceConv.backwardData(c, gy, kernel), 1e-8, "grad x");
        assertArrayEquals(gk, ReferenceConv.backwardWeights(c, x, gy), 1e-8, "grad kernel");
        assertArrayEquals(gb, ReferenceConv.backwardBias(c, gy), 1e-8, "grad bias");
    }

    @ParameterizedTest
    @MethodSource("configs")
    void backwardIsTheAdjointOfForward(ConvConfig c) {
        Random r = new Random(c.hashCode() + 1);
        double[] x = random(r, c.inputLength());
        double[] kernel = random(r, c.kernelLength());
        double[] gy = random(r, c.outputLength());
        double l = dot(ReferenceConv.forward(c, x, kernel, null), gy);
        assertEquals(l, dot(x, ReferenceConv.backwardData(c, gy, kernel)), 1e-12 * Math.max(1, Math.abs(l)));
        assertEquals(l, dot(kernel, ReferenceConv.backwardWeights(c, x, gy)), 1e-12 * Math.max(1, Math.abs(l)));
    }

    /** A 1x1 kernel of 1 with padding p returns the padded input itself. */
    private static double[] padded1d(PaddingMode mode, double[] x, int p) {
        ConvConfig c = new ConvConfig(1, 1, 1, 1, new int[]{x.length}, new int[]{1}, new int[]{1}, new int[]{p}, mode);
        return ReferenceConv.forward(c, x, new double[]{1}, null);
    }

    @Test
    void paddingModesFollowPyTorch() {
        double[] x = {1, 2, 3, 4};
        assertArrayEquals(new double[]{0, 0, 1, 2, 3, 4, 0, 0}, padded1d(PaddingMode.ZEROS, x, 2));
        assertArrayEquals(new double[]{3, 2, 1, 2, 3, 4, 3, 2}, padded1d(PaddingMode.REFLECT, x, 2));
        assertArrayEquals(new double[]{1, 1, 1, 2, 3, 4, 4, 4}, padded1d(PaddingMode.REPLICATE, x, 2));
        assertArrayEquals(new double[]{3, 4, 1, 2, 3, 4, 1, 2}, padded1d(PaddingMode.CIRCULAR, x, 2));
        assertArrayEquals(new double[]{4, 3, 2, 1, 2, 3, 4, 3, 2, 1}, padded1d(PaddingMode.REFLECT, x, 3));
        assertArrayEquals(new double[]{1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4}, padded1d(PaddingMode.CIRCULAR, x, 4));
    }

    @Test
    void paddingIsAppliedPerAxisIn2d() {
        // 2x3 input, reflect padding (1, 2): rows reflect about row 0/1, columns about column 0/2.
        double[] x = {1, 2, 3,
                      4, 5, 6};
        ConvConfig c = new ConvConfig(1, 1, 1, 1, new int[]{2, 3}, new int[]{1, 1}, new int[]{1, 1},
                new int[]{1, 2}, PaddingMode.REFLECT);
        double[] y = ReferenceConv.forward(c, x, new double[]{1}, null);
        double[] rowA = {6, 5, 4, 5, 6, 5, 4}; // row 1 reflected
        double[] rowB = {3, 2, 1, 2, 3, 2, 1}; // row 0
        double[] expected = new double[28];
        System.arraycopy(rowA, 0, expected, 0, 7);
        System.arraycopy(rowB, 0, expected, 7, 7);
        System.arraycopy(rowA, 0, expected, 14, 7);
        System.arraycopy(rowB, 0, expected, 21, 7);
        assertArrayEquals(expected, y);
        assertArrayEquals(new int[]{4, 7}, c.outputSize());
    }

    @Test
    void foldsPaddedGradientsBackOntoTheirSources() {
        // With a 1x1 kernel of 1 the data gradient counts how often each input cell was copied.
        double[] ones = new double[8];
        java.util.Arrays.fill(ones, 1);
        ConvConfig c = new ConvConfig(1, 1, 1, 1, new int[]{4}, new int[]{1}, new int[]{1}, new int[]{2},
                PaddingMode.REFLECT);
        assertArrayEquals(new double[]{1, 3, 3, 1}, ReferenceConv.backwardData(c, ones, new double[]{1}));
        ConvConfig replicate = new ConvConfig(1, 1, 1, 1, new int[]{4}, new int[]{1}, new int[]{1}, new int[]{2},
                PaddingMode.REPLICATE);
        assertArrayEquals(new double[]{3, 1, 1, 3}, ReferenceConv.backwardData(replicate, ones, new double[]{1}));
        ConvConfig circular = new ConvConfig(1, 1, 1, 1, new int[]{4}, new int[]{1}, new int[]{1}, new int[]{2},
                PaddingMode.CIRCULAR);
        assertArrayEquals(new double[]{2, 2, 2, 2}, ReferenceConv.backwardData(circular, ones, new double[]{1}));
    }

    @Test
    void groupedStridedCrossCorrelationByHand() {
        // N=1, Cin=2, Cout=2, groups=2, 1D input length 5, kernel 2, stride 2, no padding: out length 2.
        ConvConfig c = new ConvConfig(1, 2, 2, 2, new int[]{5}, new int[]{2}, new int[]{2}, new int[]{0},
                PaddingMode.ZEROS);
        double[] x = {1, 2, 3, 4, 5, /* channel 1 */ 10, 20, 30, 40, 50};
        double[] kernel = {1, -1, /* out 1, sees only channel 1 */ 2, 3};
        double[] y = ReferenceConv.forward(c, x, kernel, new double[]{0.5, -0.5});
        assertArrayEquals(new double[]{1 - 2 + 0.5, 3 - 4 + 0.5, 20 + 60 - 0.5, 60 + 120 - 0.5}, y, 0.0);
    }

    @Test
    void parallelResultsAreDeterministic() {
        ConvConfig c = new ConvConfig(4, 8, 8, 2, new int[]{9, 9}, new int[]{3, 3}, new int[]{1, 1},
                new int[]{1, 1}, PaddingMode.CIRCULAR);
        Random r = new Random(5);
        double[] x = random(r, c.inputLength());
        double[] k = random(r, c.kernelLength());
        double[] gy = random(r, c.outputLength());
        assertArrayEquals(ReferenceConv.forward(c, x, k, null), ReferenceConv.forward(c, x, k, null), 0.0);
        assertArrayEquals(ReferenceConv.backwardData(c, gy, k), ReferenceConv.backwardData(c, gy, k), 0.0);
        assertArrayEquals(ReferenceConv.backwardWeights(c, x, gy), ReferenceConv.backwardWeights(c, x, gy), 0.0);
    }

    @Test
    void configValidationFollowsPyTorch() {
        assertThrows(IllegalArgumentException.class, () -> new ConvConfig(1, 3, 4, 2, new int[]{5}, new int[]{3},
                new int[]{1}, new int[]{1}, PaddingMode.ZEROS)); // groups must divide channels
        assertThrows(IllegalArgumentException.class, () -> new ConvConfig(1, 2, 2, 1, new int[]{3}, new int[]{3},
                new int[]{1}, new int[]{3}, PaddingMode.REFLECT)); // reflect padding >= input size
        new ConvConfig(1, 2, 2, 1, new int[]{3}, new int[]{3}, new int[]{1}, new int[]{3}, PaddingMode.CIRCULAR);
        assertThrows(IllegalArgumentException.class, () -> new ConvConfig(1, 2, 2, 1, new int[]{3}, new int[]{3},
                new int[]{1}, new int[]{4}, PaddingMode.CIRCULAR)); // wraps more than once
        assertThrows(IllegalArgumentException.class, () -> new ConvConfig(1, 2, 2, 1, new int[]{3}, new int[]{6},
                new int[]{1}, new int[]{1}, PaddingMode.ZEROS)); // kernel larger than padded input
        assertThrows(IllegalArgumentException.class, () -> new ConvConfig(1, 2, 2, 1, new int[]{3, 3}, new int[]{3},
                new int[]{1}, new int[]{1}, PaddingMode.ZEROS)); // mismatched lengths
        assertThrows(IllegalArgumentException.class, () -> new ConvConfig(1, 2, 2, 1, new int[]{3}, new int[]{3},
                new int[]{0}, new int[]{1}, PaddingMode.ZEROS)); // stride 0
        ConvConfig c = new ConvConfig(2, 4, 6, 2, new int[]{10, 11}, new int[]{3, 4}, new int[]{2, 3},
                new int[]{1, 0}, PaddingMode.ZEROS);
        assertArrayEquals(new int[]{5, 3}, c.outputSize());
        assertEquals(2, c.ndim());
        assertEquals(2 * 6 * 15, c.outputLength());
        assertEquals(6 * 2 * 12, c.kernelLength());
        ConvConfig same = new ConvConfig(2, 4, 6, 2, new int[]{10, 11}, new int[]{3, 4}, new int[]{2, 3},
                new int[]{1, 0}, PaddingMode.ZEROS);
        assertEquals(c, same);
        assertEquals(c.hashCode(), same.hashCode());
        assertThrows(IllegalArgumentException.class,
                () -> ReferenceConv.forward(c, new double[3], new double[c.kernelLength()], null));
    }
}
