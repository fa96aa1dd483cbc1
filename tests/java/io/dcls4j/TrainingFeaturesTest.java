package io.dcls4j;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared positions and inference mode of {@link DclsConv}. */
class TrainingFeaturesTest {

    private static Tensor random(Arena arena, long seed, long... shape) {
        Tensor t = Tensor.allocate(arena, shape);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < t.elementCount(); i++) {
            t.set(i, (float) r.nextDouble(-1, 1));
        }
        return t;
    }

    private static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol * Math.max(1, Math.abs(expected[i])), what + "[" + i + "]");
        }
    }

    private static DclsConv.Builder builder(Interpolation interpolation) {
        return DclsConv.builder(3, 4).kernelCount(3).dilatedKernelSize(7, 5).padding(3, 2)
                .interpolation(interpolation);
    }

    // ------------------------------------------------------------------------------------------ shared positions

    @Test
    void sharedPositionGradientsAreTheSumOfBothUsers() {
        for (Interpolation interpolation : Interpolation.values()) {
            try (Arena arena = Arena.ofConfined();
                 DclsConv owner = builder(interpolation).seed(1).build();
                 DclsConv sharer = builder(interpolation).seed(2).sharePositionsWith(owner).build();
                 DclsConv a = builder(interpolation).seed(3).build();
                 DclsConv b = builder(interpolation).seed(4).build()) {
                assertSame(owner.positions(), sharer.positions());
                assertSame(owner, sharer.positionOwner());
                assertNull(owner.positionOwner());
                // two separate layers with identical parameters
                a.weight().value().copyFrom(owner.weight().value());
                a.bias().value().copyFrom(owner.bias().value());
                b.weight().value().copyFrom(sharer.weight().value());
                b.bias().value().copyFrom(sharer.bias().value());
                for (DclsConv l : new DclsConv[] {a, b}) {
                    l.positions().value().copyFrom(owner.positions().value());
                    if (interpolation.learnsSigma()) {
                        l.sigma().value().copyFrom(owner.sigma().value());
                    }
                }
                Tensor x1 = random(arena, 10, 2, 3, 9, 8);
                Tensor x2 = random(arena, 11, 2, 3, 9, 8);
                Tensor gy = random(arena, 12, owner.outputShape(x1.shape()));
                Tensor gy2 = random(arena, 13, owner.outputShape(x2.shape()));

                assertClose(a.forward(x1).toFloatArray(), owner.forward(x1).toFloatArray(), 1e-6, "y owner");
                owner.backward(gy);
                assertClose(b.forward(x2).toFloatArray(), sharer.forward(x2).toFloatArray(), 1e-6, "y sharer");
                sharer.backward(gy2);
                a.forward(x1);
                a.backward(gy);
                b.forward(x2);
                b.backward(gy2);

                float[] pa = a.positions().grad().toFloatArray();
                float[] pb = b.positions().grad().toFloatArray();
                float[] sum = new float[pa.length];
                for (int i = 0; i < sum.length; i++) {
                    sum[i] = pa[i] + pb[i];
                }
                assertClose(sum, owner.positions().grad().toFloatArray(), 1e-5, interpolation + " dP");
                if (interpolation.learnsSigma()) {
                    float[] sa = a.sigma().grad().toFloatArray();
                    float[] sb = b.sigma().grad().toFloatArray();
                    for (int i = 0; i < sum.length; i++) {
                        sum[i] = sa[i] + sb[i];
                    }
                    assertClose(sum, owner.sigma().grad().toFloatArray(), 1e-5, interpolation + " dSIG");
                }
                assertClose(a.weight().grad().toFloatArray(), owner.weight().grad().toFloatArray(), 1e-6, "dW owner");
                assertClose(b.weight().grad().toFloatArray(), sharer.weight().grad().toFloatArray(), 1e-6, "dW sharer");
            }
        }
    }

    @Test
    void sharingNeedsMatchingShapes() {
        try (DclsConv owner = builder(Interpolation.GAUSSIAN).seed(1).build();
             DclsConv v1 = builder(Interpolation.TRIANGLE).seed(1).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DclsConv.builder(3, 4).kernelCount(2).dilatedKernelSize(7, 5).sharePositionsWith(owner).build());
            assertTrue(e.getMessage().contains("shape"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> DclsConv.builder(3, 4).kernelCount(3).dilatedKernelSize(7, 7).sharePositionsWith(owner).build());
            assertTrue(e.getMessage().contains("dilated kernel size"), e.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> DclsConv.builder(3, 4).kernelCount(3).dilatedKernelSize(7).sharePositionsWith(owner).build());
            e = assertThrows(IllegalArgumentException.class,
                    () -> builder(Interpolation.GAUSSIAN).sharePositionsWith(v1).build());
            assertTrue(e.getMessage().contains("needs a sigma"), e.getMessage());
            // a layer without sigma may share a Gaussian layer's positions
            try (DclsConv ok = builder(Interpolation.BILINEAR).sharePositionsWith(owner).build()) {
                assertSame(owner.positions(), ok.positions());
                assertNull(ok.sigma());
            }
            // sharing with a sharer shares with its owner
            try (DclsConv s1 = builder(Interpolation.GAUSSIAN).sharePositionsWith(owner).build();
                 DclsConv s2 = builder(Interpolation.GAUSSIAN).sharePositionsWith(s1).build()) {
                assertSame(owner, s2.positionOwner());
            }
        }
    }

    @Test
    void closingTheOwnerMakesSharersFailCleanly() {
        try (Arena arena = Arena.ofConfined()) {
            DclsConv owner = builder(Interpolation.GAUSSIAN).seed(1).build();
            DclsConv sharer = builder(Interpolation.GAUSSIAN).seed(2).sharePositionsWith(owner).build();
            Tensor x = random(arena, 1, 1, 3, 9, 8);
            sharer.forward(x);
            owner.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> sharer.forward(x));
            assertTrue(e.getMessage().contains("owner must outlive"), e.getMessage());
            assertThrows(IllegalStateException.class, sharer::buildKernel);
            assertThrows(IllegalStateException.class, sharer::zeroGrad);
            assertThrows(IllegalStateException.class, () -> sharer.positions().value().toFloatArray());
            assertThrows(IllegalStateException.class,
                    () -> builder(Interpolation.GAUSSIAN).sharePositionsWith(owner).build());
            sharer.close();
            sharer.close();
        }
    }

    // ------------------------------------------------------------------------------------------ inference mode

    private static void integerPositions(DclsConv conv, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor p = conv.positions().value();
        int[] dks = conv.dilatedKernelSize();
        long per = p.elementCount() / dks.length;
        for (long i = 0; i < p.elementCount(); i++) {
            int lim = dks[(int) (i / per)] / 2;
            p.set(i, r.nextInt(-lim, lim + 1));
        }
    }

    @Test
    void inferenceMatchesTrainingAtIntegerPositions() {
        for (Interpolation interpolation : new Interpolation[] {Interpolation.BILINEAR, Interpolation.TRIANGLE,
                Interpolation.TRIANGLE_LEARNED_WIDTH}) {
            try (Arena arena = Arena.ofConfined(); DclsConv conv = builder(interpolation).seed(5).build()) {
                integerPositions(conv, 6);
                if (conv.sigma() != null) {
                    conv.sigma().value().fill(0f);
                }
                Tensor x = random(arena, 7, 2, 3, 9, 8);
                float[] training = conv.forward(x).toFloatArray();
                float[] trainingKernel = conv.kernel().toFloatArray();
                for (boolean round : new boolean[] {false, true}) {
                    conv.inferenceMode(round);
                    assertTrue(conv.isInferenceMode());
                    assertClose(trainingKernel, conv.kernel().toFloatArray(), 1e-6, interpolation + " kernel");
                    assertClose(training, conv.forward(x).toFloatArray(), 1e-5, interpolation + " y");
                    conv.trainingMode();
                }
            }
        }
    }

    @Test
    void inferenceRoundsPositionsAndBuildsOneHotKernels() {
        try (Arena arena = Arena.ofConfined();
             DclsConv gauss = builder(Interpolation.GAUSSIAN).seed(8).build();
             DclsConv bilinear = builder(Interpolation.BILINEAR).bias(true).seed(9).build()) {
            // gauss: random non-integer positions; bilinear: the same positions rounded, the same weights
            float[] p = gauss.positions().value().toFloatArray();
            float[] rounded = new float[p.length];
            for (int i = 0; i < p.length; i++) {
                rounded[i] = (float) Math.rint(p[i]);
            }
            bilinear.positions().value().copyFrom(rounded);
            bilinear.weight().value().copyFrom(gauss.weight().value());
            bilinear.bias().value().copyFrom(gauss.bias().value());
            Tensor x = random(arena, 10, 2, 3, 9, 8);
            float[] expected = bilinear.forward(x).toFloatArray();
            gauss.inferenceMode(true);
            assertClose(expected, gauss.forward(x).toFloatArray(), 1e-5, "rounded inference");
            assertArrayEquals(p, gauss.positions().value().toFloatArray(), "the parameters are never rounded");
            // each kernel entry is a sum of whole weights: one-hot elements
            float[] w = gauss.weight().value().toFloatArray();
            float[] k = gauss.kernel().toFloatArray();
            double kernelSum = 0;
            double weightSum = 0;
            for (float v : k) {
                kernelSum += v;
            }
            for (float v : w) {
                weightSum += v;
            }
            assertEquals(weightSum, kernelSum, 1e-4);
        }
    }

    @Test
    void inferenceCachesTheKernelAndForbidsBackward() {
        try (Arena arena = Arena.ofConfined(); DclsConv conv = builder(Interpolation.GAUSSIAN).seed(11).build()) {
            Tensor x = random(arena, 12, 1, 3, 9, 8);
            float[] trainingY = conv.forward(x).toFloatArray();
            conv.inferenceMode(false);
            float[] cached = conv.forward(x).toFloatArray();
            conv.weight().value().fill(0.5f);                 // forward does not rebuild the kernel
            assertArrayEquals(cached, conv.forward(x).toFloatArray());
            Tensor gy = Tensor.allocate(arena, conv.outputShape(x.shape()));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> conv.backward(gy));
            assertTrue(e.getMessage().contains("inference mode"), e.getMessage());
            conv.buildKernel();                               // refreshes the cached kernel
            float[] refreshed = conv.forward(x).toFloatArray();
            assertTrue(differ(cached, refreshed));
            conv.trainingMode();
            assertTrue(!conv.isInferenceMode());
            float[] after = conv.forward(x).toFloatArray();
            assertTrue(differ(trainingY, after));             // the weights changed...
            conv.backward(gy);                                // ...and backward works again
        }
    }

    private static boolean differ(float[] a, float[] b) {
        for (int i = 0; i < a.length; i++) {
            if (Math.abs(a[i] - b[i]) > 1e-4) {
                return true;
            }
        }
        return false;
    }
}
