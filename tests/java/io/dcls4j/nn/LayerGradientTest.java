package io.dcls4j.nn;

import io.dcls4j.DclsConv;
import io.dcls4j.Interpolation;
import io.dcls4j.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Every layer's backward (input and parameter gradients) against finite differences of its forward. */
class LayerGradientTest {
    private static void check(String what, Module m, Tensor x) {
        try (m) {
            FiniteDifferences.check(what, m, x, 42);
        }
    }

    @Test
    void linearOnRowsAndChannelWise() {
        try (Arena a = Arena.ofConfined()) {
            check("linear (N, C)", new Linear(5, 3, true, 1), FiniteDifferences.random(a, 2, 4, 5));
            check("linear (N, C, H, W)", new Linear(4, 6, true, 3), FiniteDifferences.random(a, 4, 2, 4, 3, 2));
            check("linear without bias", new Linear(4, 2, false, 3), FiniteDifferences.random(a, 5, 3, 4, 5));
            check("linear, batch of 1", new Linear(3, 2, true, 4), FiniteDifferences.random(a, 6, 1, 3));
        }
    }

    @Test
    void convolutions() {
        try (Arena a = Arena.ofConfined()) {
            check("conv2d stride 2", new Conv(3, 4, new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, 1, true, 1),
                    FiniteDifferences.random(a, 2, 2, 3, 6, 6));
            check("conv2d padded, grouped", new Conv(4, 6, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, 2, true, 2),
                    FiniteDifferences.random(a, 3, 2, 4, 5, 5));
            check("conv1d", new Conv(2, 3, new int[] {3}, new int[] {2}, new int[] {1}, 1, false, 3),
                    FiniteDifferences.random(a, 4, 2, 2, 9));
            check("conv3d", new Conv(2, 2, new int[] {2, 2, 2}, new int[] {1, 1, 1}, new int[] {0, 0, 0}, 1, true, 4),
                    FiniteDifferences.random(a, 5, 1, 2, 3, 3, 3));
            check("conv2d dilated depthwise", new Conv(3, 3, new int[] {3, 3}, new int[] {1, 1}, new int[] {2, 2},
                    new int[] {2, 2}, 3, true, 5), FiniteDifferences.random(a, 6, 2, 3, 6, 5));
            check("conv1d dilated, strided, no bias", new Conv(2, 4, new int[] {3}, new int[] {2}, new int[] {1},
                    new int[] {3}, 2, false, 6), FiniteDifferences.random(a, 7, 2, 2, 11));
        }
    }

    @Test
    void layerNormChannelsFirstAndRows() {
        try (Arena a = Arena.ofConfined()) {
            LayerNorm rows = new LayerNorm(6, 1e-6);
            randomise(rows, 7);
            check("layer norm (N, C)", rows, FiniteDifferences.random(a, 1, 3, 6));
            LayerNorm cf = new LayerNorm(5, 1e-6);
            randomise(cf, 8);
            check("layer norm (N, C, H, W)", cf, FiniteDifferences.random(a, 2, 2, 5, 3, 4));
        }
    }

    @Test
    void batchNormTrainingAndEval() {
        try (Arena a = Arena.ofConfined()) {
            BatchNorm train = new BatchNorm(3);
            randomise(train, 1);
            check("batch norm (training)", train, FiniteDifferences.random(a, 2, 4, 3, 2, 3));
            BatchNorm eval = new BatchNorm(3);
            randomise(eval, 2);
            eval.runningMean().copyFrom(new float[] {0.1f, -0.2f, 0.3f});
            eval.runningVar().copyFrom(new float[] {0.5f, 1.5f, 2f});
            eval.eval();
            check("batch norm (eval)", eval, FiniteDifferences.random(a, 3, 4, 3, 5));
        }
    }

    @Test
    void activations() {
        try (Arena a = Arena.ofConfined()) {
            check("gelu", new Gelu(), FiniteDifferences.random(a, 1, 3, 4, 5));
            check("relu", new Relu(), FiniteDifferences.spaced(a, 2, 3, 4, 5));
        }
    }

    @Test
    void pooling() {
        try (Arena a = Arena.ofConfined()) {
            check("max pool", new MaxPool(new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}),
                    FiniteDifferences.spaced(a, 1, 2, 2, 7, 7));
            check("avg pool", new AvgPool(new int[] {3, 2}, new int[] {2, 1}, new int[] {1, 0}),
                    FiniteDifferences.random(a, 2, 2, 3, 6, 5));
            check("avg pool 1d", new AvgPool(new int[] {2}, new int[] {2}, new int[] {0}),
                    FiniteDifferences.random(a, 3, 2, 3, 8));
            check("global avg pool", new GlobalAvgPool(), FiniteDifferences.random(a, 4, 3, 4, 3, 5));
        }
    }

    @Test
    void layerScaleResidualAndSequential() {
        try (Arena a = Arena.ofConfined()) {
            check("layer scale", new LayerScale(4, 0.7), FiniteDifferences.random(a, 1, 2, 4, 3, 3));
            check("layer scale on 1x1", new LayerScale(4, 0.7), FiniteDifferences.random(a, 3, 2, 4, 1, 1));
            Sequential body = new Sequential().add("norm", new LayerNorm(4, 1e-6)).add("pwconv1", new Linear(4, 8, true, 1))
                    .add("act", new Gelu()).add("pwconv2", new Linear(8, 4, true, 2)).add("", new LayerScale(4, 0.5));
            check("residual block", new Residual(body), FiniteDifferences.random(a, 2, 2, 4, 3, 3));
        }
    }

    @Test
    void dclsConvAsAModule() {
        try (Arena a = Arena.ofConfined()) {
            DclsConv conv = DclsConv.builder(3, 3).groups(3).kernelCount(4).dilatedKernelSize(5, 5).padding(2)
                    .interpolation(Interpolation.GAUSSIAN).seed(3).build();
            check("dcls depthwise", Sequential.of(conv), FiniteDifferences.random(a, 4, 2, 3, 6, 6));
        }
    }

    @Test
    void dropPathGradientIsTheMaskAndEvalIsTheIdentity() {
        try (Arena a = Arena.ofConfined(); DropPath drop = new DropPath(0.5, 7)) {
            Tensor x = FiniteDifferences.random(a, 1, 64, 3);
            Tensor y = drop.forward(x);
            Tensor mask = drop.mask();
            int dropped = 0;
            for (int n = 0; n < 64; n++) {
                float m = mask.get(n);
                if (m != 0f && m != 2f) {
                    fail("mask value " + m + " is neither 0 nor 1 / keep");
                }
                dropped += m == 0f ? 1 : 0;
                for (int c = 0; c < 3; c++) {
                    assertEquals(x.get(n * 3 + c) * m, y.get(n * 3 + c), 0f);
                }
            }
            // 64 draws at p = 0.5: 32 +- 4 sigma
            if (dropped < 16 || dropped > 48) {
                fail(dropped + " of 64 samples dropped at p = 0.5");
            }
            Tensor g = FiniteDifferences.random(a, 2, 64, 3);
            Tensor gx = drop.backward(g);
            for (int i = 0; i < 192; i++) {
                assertEquals(g.get(i) * mask.get(i / 3), gx.get(i), 0f);
            }
            drop.eval();
            assertEquals(x, drop.forward(x), "eval mode returns the input itself");
            assertEquals(g, drop.backward(g));
        }
    }

    @Test
    void crossEntropyGradientWithAndWithoutSmoothing() {
        for (double smoothing : new double[] {0, 0.1}) {
            try (Arena a = Arena.ofConfined(); CrossEntropyLoss loss = new CrossEntropyLoss(smoothing)) {
                Tensor logits = FiniteDifferences.random(a, 1, 4, 5);
                int[] labels = {0, 3, 4, 1};
                loss.forward(logits, labels);
                float[] grad = loss.backward().toFloatArray();
                FiniteDifferences.compare("cross entropy (smoothing " + smoothing + ")", logits, grad,
                        () -> loss.forward(logits, labels), new SplittableRandom(1));
            }
        }
    }

    /** Parameters away from their constant initial values, so the checks see their effect. */
    static void randomise(Module m, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        m.namedParameters().values().forEach(p -> {
            for (long i = 0; i < p.value().elementCount(); i++) {
                p.value().set(i, (float) random.nextDouble(0.5, 1.5));
            }
        });
    }
}
