package io.dcls4j;

import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.reference.ReferenceConstruct;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PyTorchLayoutTest {

    @Test
    void axisOrderFollowsTheReadmeTable() {
        for (Interpolation i : Interpolation.values()) {
            assertArrayEquals(new int[]{0}, PyTorchLayout.referenceAxisOrder(i, 1));
        }
        assertArrayEquals(new int[]{0, 1}, PyTorchLayout.referenceAxisOrder(Interpolation.BILINEAR, 2));
        assertArrayEquals(new int[]{0, 2, 1}, PyTorchLayout.referenceAxisOrder(Interpolation.BILINEAR, 3));
        for (Interpolation i : new Interpolation[]{Interpolation.TRIANGLE, Interpolation.TRIANGLE_LEARNED_WIDTH,
                Interpolation.GAUSSIAN}) {
            assertArrayEquals(new int[]{1, 0}, PyTorchLayout.referenceAxisOrder(i, 2));
            assertArrayEquals(new int[]{2, 1, 0}, PyTorchLayout.referenceAxisOrder(i, 3));
        }
        assertThrows(IllegalArgumentException.class, () -> PyTorchLayout.referenceAxisOrder(Interpolation.GAUSSIAN, 4));
    }

    /** README: 2D 7x7, one element of weight 1, SIG = 0, reference P = (2, -1). */
    @ParameterizedTest
    @EnumSource(Interpolation.class)
    void readmeExample(Interpolation interpolation) {
        int[] dks = {7, 7};
        double[] positions = PyTorchLayout.positionsFromReference(interpolation, dks, new double[]{2, -1});
        double[] sigma = interpolation.learnsSigma()
                ? PyTorchLayout.sigmaFromReference(interpolation, dks, new double[]{0, 0}) : null;
        double[] kernel = ReferenceConstruct.forward(new ConstructConfig(interpolation, 1, 1, 1, dks),
                new double[]{1}, positions, sigma);
        int expected = interpolation == Interpolation.BILINEAR ? 5 * 7 + 2 : 2 * 7 + 5;
        int argmax = 0;
        for (int i = 0; i < kernel.length; i++) {
            if (kernel[i] > kernel[argmax]) {
                argmax = i;
            }
        }
        assertEquals(expected, argmax, "K[" + argmax / 7 + ", " + argmax % 7 + "]");
        if (interpolation == Interpolation.BILINEAR) {
            assertEquals(1.0, kernel[expected], 0.0);
        } else if (interpolation == Interpolation.GAUSSIAN) {
            assertEquals(1.0, kernel[expected], 1e-2); // the 0.27-wide Gaussian leaks ~0.1% to each neighbour
        } else {
            assertEquals(1.0, kernel[expected], 2e-7); // 1 / (1 + 1e-7)
        }
    }

    @Test
    void shiftsByTheDifferenceOfCentreOffsets() {
        // 2D 7x11 (offsets 3 and 5), Gaussian: ref component 0 moves along axis 1, component 1 along axis 0.
        int[] dks = {7, 11};
        double[] ref = {0.5, -1.0, /* component 1 */ 2.0, 0.25}; // (ndim=2, Cout=1, Cin=1, K=2)
        double[] ours = PyTorchLayout.positionsFromReference(Interpolation.GAUSSIAN, dks, ref);
        // ours[1] = ref[0] + 3 - 5, ours[0] = ref[1] + 5 - 3
        assertArrayEquals(new double[]{4.0, 2.25, -1.5, -3.0}, ours, 0.0);
        assertArrayEquals(new double[]{2.0, 0.25, 0.5, -1.0},
                PyTorchLayout.sigmaFromReference(Interpolation.GAUSSIAN, dks, ref), 0.0);
        // BILINEAR keeps the order in 2D, hence no shift either.
        assertArrayEquals(ref, PyTorchLayout.positionsFromReference(Interpolation.BILINEAR, dks, ref), 0.0);
        // 3D BILINEAR swaps components 1 and 2: dks (3, 5, 9), offsets (1, 2, 4).
        double[] ref3 = {1, 2, 3};
        assertArrayEquals(new double[]{1, 3 + 4 - 2, 2 + 2 - 4},
                PyTorchLayout.positionsFromReference(Interpolation.BILINEAR, new int[]{3, 5, 9}, ref3), 0.0);
    }

    @Test
    void conversionsRoundTrip() {
        Random random = new Random(11);
        for (Interpolation interpolation : Interpolation.values()) {
            for (int[] dks : new int[][]{{9}, {7, 11}, {4, 5, 8}, {5, 5, 5}}) {
                double[] ref = random.doubles(dks.length * 12, -5, 5).toArray();
                double[] p = PyTorchLayout.positionsFromReference(interpolation, dks, ref);
                assertArrayEquals(ref, PyTorchLayout.positionsToReference(interpolation, dks, p), 1e-15);
                double[] s = PyTorchLayout.sigmaFromReference(interpolation, dks, ref);
                assertArrayEquals(ref, PyTorchLayout.sigmaToReference(interpolation, dks, s), 0.0);
                double[] g = PyTorchLayout.gradientsFromReference(interpolation, dks, ref);
                assertArrayEquals(ref, PyTorchLayout.gradientsToReference(interpolation, dks, g), 0.0);

                float[] refF = new float[ref.length];
                for (int i = 0; i < ref.length; i++) {
                    refF[i] = (float) ref[i];
                }
                float[] pf = PyTorchLayout.positionsFromReference(interpolation, dks, refF);
                // float: adding and removing an integer shift may round by half an ulp of the shifted value
                assertArrayEquals(refF, PyTorchLayout.positionsToReference(interpolation, dks, pf), 1e-6f);
                assertArrayEquals(refF, PyTorchLayout.sigmaToReference(interpolation, dks,
                        PyTorchLayout.sigmaFromReference(interpolation, dks, refF)), 0f);
                assertArrayEquals(refF, PyTorchLayout.gradientsToReference(interpolation, dks,
                        PyTorchLayout.gradientsFromReference(interpolation, dks, refF)), 0f);
                // the float overload is the double one on the widened values, rounded once
                double[] refWidened = new double[refF.length];
                for (int i = 0; i < refF.length; i++) {
                    refWidened[i] = refF[i];
                }
                double[] pd = PyTorchLayout.positionsFromReference(interpolation, dks, refWidened);
                for (int i = 0; i < pd.length; i++) {
                    assertEquals((float) pd[i], pf[i], 0f);
                }
            }
        }
    }

    @Test
    void positionGradientsTransformByTheReorderOnly() {
        // L(refP) = L_ours(fromReference(refP)); its finite-difference gradient must be gradientsToReference(dL/dP).
        int[] dks = {5, 7, 6};
        Interpolation interpolation = Interpolation.GAUSSIAN;
        ConstructConfig c = new ConstructConfig(interpolation, 1, 2, 2, dks);
        Random random = new Random(3);
        double[] weight = random.doubles(c.elementCount(), -1, 1).toArray();
        double[] refP = random.doubles(c.positionLength(), -2, 2).toArray();
        double[] refSig = random.doubles(c.positionLength(), 0.2, 1).toArray();
        double[] gk = random.doubles(c.kernelLength(), -1, 1).toArray();
        double[] sigma = PyTorchLayout.sigmaFromReference(interpolation, dks, refSig);
        double[] gradOurs = ReferenceConstruct.backward(c, weight,
                PyTorchLayout.positionsFromReference(interpolation, dks, refP), sigma, gk).positions();
        double[] gradRef = PyTorchLayout.gradientsToReference(interpolation, dks, gradOurs);
        double h = 1e-6;
        for (int i = 0; i < refP.length; i++) {
            double[] plus = refP.clone();
            double[] minus = refP.clone();
            plus[i] += h;
            minus[i] -= h;
            double fd = (loss(c, weight, PyTorchLayout.positionsFromReference(interpolation, dks, plus), sigma, gk)
                    - loss(c, weight, PyTorchLayout.positionsFromReference(interpolation, dks, minus), sigma, gk))
                    / (2 * h);
            assertEquals(fd, gradRef[i], 1e-7, "component " + i);
        }
    }

    private static double loss(ConstructConfig c, double[] w, double[] p, double[] s, double[] gk) {
        double[] k = ReferenceConstruct.forward(c, w, p, s);
        double sum = 0;
        for (int i = 0; i < k.length; i++) {
            sum += k[i] * gk[i];
        }
        return sum;
    }

    @Test
    void rejectsArraysThatAreNotPerComponentBlocks() {
        assertThrows(IllegalArgumentException.class,
                () -> PyTorchLayout.positionsFromReference(Interpolation.GAUSSIAN, new int[]{5, 5}, new double[3]));
        assertThrows(IllegalArgumentException.class,
                () -> PyTorchLayout.sigmaToReference(Interpolation.GAUSSIAN, new int[]{5, 5, 5}, new float[4]));
        assertArrayEquals(new double[0],
                PyTorchLayout.positionsFromReference(Interpolation.TRIANGLE, new int[]{3, 3}, new double[0]));
        double[] input = {1, 2};
        PyTorchLayout.positionsFromReference(Interpolation.TRIANGLE, new int[]{3, 5}, input);
        assertArrayEquals(new double[]{1, 2}, input, 0.0); // inputs are never modified
    }
}
