package io.dcls4j.reference;

import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.Interpolation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Finite-difference and kink checks of {@link ReferenceConstruct}. */
class ReferenceConstructTest {

    private static final double H = 1e-6;
    /** Keep every kink at least this far from the evaluation point, so central differences are valid. */
    private static final double KINK_MARGIN = 1e-3;

    static Stream<Arguments> interpolationsAndDims() {
        return Stream.of(Interpolation.values())
                .flatMap(i -> Stream.of(new int[]{7}, new int[]{5, 6}, new int[]{3, 4, 5})
                        .map(dks -> Arguments.of(i, dks)));
    }

    /** A random construction away from kinks; positions reach half a cell beyond the grid. */
    private record Params(ConstructConfig config, double[] weight, double[] positions, double[] sigma,
                          double[] gradKernel) {
    }

    private static Params randomParams(Interpolation interpolation, int[] dks, long seed) {
        Random random = new Random(seed);
        ConstructConfig c = new ConstructConfig(interpolation, 2, 2, 3, dks);
        int elements = c.elementCount();
        double[] weight = new double[elements];
        double[] positions = new double[c.positionLength()];
        double[] sigma = interpolation.learnsSigma() ? new double[c.positionLength()] : null;
        for (int e = 0; e < elements; e++) {
            weight[e] = random.nextGaussian();
        }
        for (int d = 0; d < dks.length; d++) {
            for (int e = 0; e < elements; e++) {
                int j = d * elements + e;
                do {
                    double half = dks[d] / 2;
                    positions[j] = -half - 0.5 + random.nextDouble() * (dks[d] + 1.0);
                    if (sigma != null) {
                        sigma[j] = (random.nextBoolean() ? 1 : -1) * (0.1 + 1.4 * random.nextDouble());
                    }
                } while (nearKink(interpolation, positions[j] + dks[d] / 2, sigma == null ? 0 : sigma[j]));
            }
        }
        double[] gradKernel = new double[c.kernelLength()];
        for (int i = 0; i < gradKernel.length; i++) {
            gradKernel[i] = random.nextGaussian();
        }
        return new Params(c, weight, positions, sigma, gradKernel);
    }

    private static boolean nearKink(Interpolation interpolation, double centre, double sigma) {
        return switch (interpolation) {
            case BILINEAR, TRIANGLE -> nearInteger(centre);
            case TRIANGLE_LEARNED_WIDTH -> nearInteger(centre) || nearInteger(centre + Math.abs(sigma) + 1)
                    || nearInteger(centre - Math.abs(sigma) - 1) || Math.abs(sigma) < KINK_MARGIN;
            case GAUSSIAN -> Math.abs(sigma) < KINK_MARGIN;
        };
    }

    private static boolean nearInteger(double v) {
        return Math.abs(v - Math.rint(v)) < KINK_MARGIN;
    }

    private static double loss(Params p, double[] weight, double[] positions, double[] sigma) {
        double[] kernel = ReferenceConstruct.forward(p.config, weight, positions, sigma);
        double sum = 0;
        for (int i = 0; i < kernel.length; i++) {
            sum += kernel[i] * p.gradKernel[i];
        }
        return sum;
    }

    /** Central difference of f with respect to every entry of x. */
    private static double[] numericGradient(double[] x, Function<double[], Double> f) {
        double[] grad = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double[] plus = x.clone();
            double[] minus = x.clone();
            plus[i] += H;
            minus[i] -= H;
            grad[i] = (f.apply(plus) - f.apply(minus)) / (2 * H);
        }
        return grad;
    }

    private static void assertClose(String what, double[] expected, double[] actual, double relTol) {
        double scale = 1;
        for (double v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], relTol * scale, what + " at " + i);
        }
    }

    @ParameterizedTest(name = "{0} dks={1}")
    @MethodSource("interpolationsAndDims")
    void gradientsMatchFiniteDifferences(Interpolation interpolation, int[] dks) {
        for (long seed = 1; seed <= 3; seed++) {
            Params p = randomParams(interpolation, dks, seed * 1000 + dks.length);
            ReferenceConstruct.ConstructGradients g =
                    ReferenceConstruct.backward(p.config, p.weight, p.positions, p.sigma, p.gradKernel);

            assertClose("weight", numericGradient(p.weight, w -> loss(p, w, p.positions, p.sigma)), g.weight(), 1e-7);
            assertClose("positions", numericGradient(p.positions, x -> loss(p, p.weight, x, p.sigma)),
                    g.positions(), 1e-6);
            if (interpolation.learnsSigma()) {
                assertClose("sigma", numericGradient(p.sigma, s -> loss(p, p.weight, p.positions, s)),
                        g.sigma(), 1e-6);
            } else {
                assertNull(g.sigma());
            }
            // The test must exercise non-trivial gradients.
            assertTrue(java.util.Arrays.stream(g.positions()).anyMatch(v -> Math.abs(v) > 1e-3));
        }
    }

    @ParameterizedTest
    @EnumSource(Interpolation.class)
    void weightGradientIsTheSpreadItself(Interpolation interpolation) {
        // The kernel is linear in the weights: K(w) = sum_e w_e * spread_e, so forward(w) = <w, gradWeight>.
        Params p = randomParams(interpolation, new int[]{4, 5}, 42);
        double[] kernel = ReferenceConstruct.forward(p.config, p.weight, p.positions, p.sigma);
        double l = 0;
        for (int i = 0; i < kernel.length; i++) {
            l += kernel[i] * p.gradKernel[i];
        }
        double[] gw = ReferenceConstruct.backward(p.config, p.weight, p.positions, p.sigma, p.gradKernel).weight();
        double dot = 0;
        for (int e = 0; e < gw.length; e++) {
            dot += gw[e] * p.weight[e];
        }
        assertEquals(l, dot, 1e-12 * Math.max(1, Math.abs(l)));
    }

    // ----------------------------------------------------------------------------------------- semantics

    private static ConstructConfig single(Interpolation interpolation, int... dks) {
        return new ConstructConfig(interpolation, 1, 1, 1, dks);
    }

    @Test
    void bilinearSpreadsOverTwoNeighboursPerAxis() {
        // 2D 5x5, centre = P + 2 = (1.25, 3.5): rows 1 and 2 with 0.75, 0.25; columns 3 and 4 with 0.5, 0.5.
        double[] k = ReferenceConstruct.forward(single(Interpolation.BILINEAR, 5, 5), new double[]{2.0},
                new double[]{-0.75, 1.5}, null);
        double[] expected = new double[25];
        expected[5 + 3] = 2 * 0.75 * 0.5;
        expected[5 + 4] = 2 * 0.75 * 0.5;
        expected[10 + 3] = 2 * 0.25 * 0.5;
        expected[10 + 4] = 2 * 0.25 * 0.5;
        assertArrayEquals(expected, k, 1e-15);
    }

    @Test
    void bilinearDropsWhatFallsOffTheGrid() {
        // 1D size 5, centre = 4.25: 0.75 at cell 4, 0.25 at cell 5 which does not exist.
        double[] k = ReferenceConstruct.forward(single(Interpolation.BILINEAR, 5), new double[]{1.0},
                new double[]{2.25}, null);
        assertArrayEquals(new double[]{0, 0, 0, 0, 0.75}, k, 1e-15);
        // Entirely off the grid: nothing at all.
        double[] off = ReferenceConstruct.forward(single(Interpolation.BILINEAR, 5), new double[]{1.0},
                new double[]{-3.5}, null);
        assertArrayEquals(new double[5], off);
    }

    @Test
    void bilinearTakesTheRightSidedDerivativeAtIntegers() {
        // centre exactly 2: K = w at cell 2; moving right moves weight to cell 3: dL/dP = w * (g[3] - g[2]).
        ConstructConfig c = single(Interpolation.BILINEAR, 5);
        double[] g = {0.1, -0.4, 0.7, 1.9, -2.3};
        double w = 1.5;
        ReferenceConstruct.ConstructGradients grads =
                ReferenceConstruct.backward(c, new double[]{w}, new double[]{0.0}, null, g);
        assertEquals(w * (g[3] - g[2]), grads.positions()[0], 1e-15);
        assertEquals(g[2], grads.weight()[0], 1e-15);
    }

    @Test
    void triangleAtIntegerPositionsHasZeroPositionGradient() {
        // |x| at 0 and relu at 0 both have derivative 0 in PyTorch, so integer positions do not move.
        for (int[] dks : new int[][]{{7}, {5, 5}, {3, 4, 5}}) {
            ConstructConfig c = new ConstructConfig(Interpolation.TRIANGLE, 2, 1, 2, dks);
            double[] positions = new double[c.positionLength()];
            Random random = new Random(7);
            for (int i = 0; i < positions.length; i++) {
                positions[i] = random.nextInt(3) - 1;
            }
            double[] weight = {0.3, -1.2, 2.0, 0.9};
            double[] g = random.doubles(c.kernelLength(), -1, 1).toArray();
            double[] gradP = ReferenceConstruct.backward(c, weight, positions, null, g).positions();
            assertArrayEquals(new double[gradP.length], gradP, 0.0);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Interpolation.class, names = {"TRIANGLE_LEARNED_WIDTH", "GAUSSIAN"})
    void sigmaZeroHasZeroSigmaGradient(Interpolation interpolation) {
        ConstructConfig c = single(interpolation, 5, 5);
        double[] g = new Random(3).doubles(25, -1, 1).toArray();
        ReferenceConstruct.ConstructGradients grads = ReferenceConstruct.backward(c, new double[]{1.0},
                new double[]{0.3, -0.6}, new double[]{0.0, 0.0}, g);
        assertArrayEquals(new double[]{0, 0}, grads.sigma(), 0.0);
        // and the sign of sigma does not matter for the kernel, only flips its gradient
        double[] pos = {0.3, -0.6};
        double[] kPlus = ReferenceConstruct.forward(c, new double[]{1.0}, pos, new double[]{0.4, 0.7});
        double[] kMinus = ReferenceConstruct.forward(c, new double[]{1.0}, pos, new double[]{-0.4, -0.7});
        assertArrayEquals(kPlus, kMinus, 0.0);
        double[] sPlus = ReferenceConstruct.backward(c, new double[]{1.0}, pos, new double[]{0.4, 0.7}, g).sigma();
        double[] sMinus = ReferenceConstruct.backward(c, new double[]{1.0}, pos, new double[]{-0.4, -0.7}, g).sigma();
        assertArrayEquals(sPlus, new double[]{-sMinus[0], -sMinus[1]}, 0.0);
        assertNotEquals(0.0, sPlus[0]);
    }

    @ParameterizedTest
    @EnumSource(value = Interpolation.class, names = {"TRIANGLE", "TRIANGLE_LEARNED_WIDTH", "GAUSSIAN"})
    void normalisedInterpolationsSumToTheWeight(Interpolation interpolation) {
        ConstructConfig c = single(interpolation, 9, 9);
        double[] sigma = interpolation.learnsSigma() ? new double[]{0.5, 0.8} : null;
        double w = -1.7;
        double[] k = ReferenceConstruct.forward(c, new double[]{w}, new double[]{0.4, -1.3}, sigma);
        double sum = 0;
        for (double v : k) {
            sum += v;
        }
        // w * S / (S + 1e-7) with S of order 1
        assertEquals(w, sum, 2e-7 * Math.abs(w));
        assertNotEquals(w, sum);
    }

    @Test
    void triangleMatchesBilinearUpToNormalisation() {
        // relu(1 - |x|) is the bilinear weight away from kinks; its sum over an interior point is exactly 1.
        double[] pos = {0.3, -0.45, 0.8};
        double[] bilinear = ReferenceConstruct.forward(single(Interpolation.BILINEAR, 5, 5, 5), new double[]{1},
                pos, null);
        double[] triangle = ReferenceConstruct.forward(single(Interpolation.TRIANGLE, 5, 5, 5), new double[]{1},
                pos, null);
        for (int i = 0; i < bilinear.length; i++) {
            assertEquals(bilinear[i] / (1 + ReferenceConstruct.NORMALISATION_EPSILON), triangle[i], 1e-15);
        }
    }

    @Test
    void gaussianHasTheDocumentedProfile() {
        // 1D size 5, P = 0 -> centre 2, sigma -0.23 -> width 0.5: u(i) = exp(-0.5 * ((i - 2) / 0.5)^2)
        double[] k = ReferenceConstruct.forward(single(Interpolation.GAUSSIAN, 5), new double[]{1},
                new double[]{0}, new double[]{-0.23});
        double[] u = new double[5];
        double s = 0;
        for (int i = 0; i < 5; i++) {
            double z = (i - 2) / 0.5;
            u[i] = Math.exp(-0.5 * z * z);
            s += u[i];
        }
        for (int i = 0; i < 5; i++) {
            assertEquals(u[i] / (s + 1e-7), k[i], 1e-15);
        }
    }

    @Test
    void elementsOfAPairAccumulateAndPairsAreSeparate() {
        // Cout=2, Cin/g=1, K=2 in 1D size 3, BILINEAR at integer centres.
        ConstructConfig c = new ConstructConfig(Interpolation.BILINEAR, 2, 1, 2, new int[]{3});
        double[] k = ReferenceConstruct.forward(c, new double[]{1, 2, 3, 4}, new double[]{-1, -1, 0, 1}, null);
        assertArrayEquals(new double[]{3, 0, 0, /* pair 1 */ 0, 3, 4}, k, 0.0);
    }

    @Test
    void rejectsBadInputs() {
        ConstructConfig gauss = single(Interpolation.GAUSSIAN, 5);
        assertThrows(IllegalArgumentException.class,
                () -> ReferenceConstruct.forward(gauss, new double[]{1}, new double[]{0}, null));
        ConstructConfig bilinear = single(Interpolation.BILINEAR, 5);
        assertThrows(IllegalArgumentException.class,
                () -> ReferenceConstruct.forward(bilinear, new double[]{1}, new double[]{0}, new double[]{0}));
        assertThrows(IllegalArgumentException.class,
                () -> ReferenceConstruct.forward(bilinear, new double[]{1, 2}, new double[]{0}, null));
        assertThrows(IllegalArgumentException.class,
                () -> ReferenceConstruct.backward(bilinear, new double[]{1}, new double[]{0}, null, new double[4]));
        assertThrows(IllegalArgumentException.class,
                () -> new ConstructConfig(Interpolation.BILINEAR, 1, 1, 1, new int[]{1, 2, 3, 4}));
        assertThrows(IllegalArgumentException.class,
                () -> new ConstructConfig(Interpolation.BILINEAR, 0, 1, 1, new int[]{3}));
        assertThrows(IllegalArgumentException.class,
                () -> new ConstructConfig(Interpolation.BILINEAR, 1, 1, 1, new int[]{0}));
    }

    @Test
    void configIsImmutableAndHasValueSemantics() {
        int[] dks = {3, 5};
        ConstructConfig c = new ConstructConfig(Interpolation.GAUSSIAN, 4, 2, 3, dks);
        dks[0] = 99;
        c.dilatedKernelSize()[1] = 99;
        assertArrayEquals(new int[]{3, 5}, c.dilatedKernelSize());
        assertEquals(2, c.ndim());
        assertEquals(15, c.kernelVolume());
        assertEquals(24, c.elementCount());
        assertEquals(48, c.positionLength());
        assertEquals(120, c.kernelLength());
        assertEquals(c, new ConstructConfig(Interpolation.GAUSSIAN, 4, 2, 3, new int[]{3, 5}));
        assertEquals(c.hashCode(), new ConstructConfig(Interpolation.GAUSSIAN, 4, 2, 3, new int[]{3, 5}).hashCode());
    }
}
