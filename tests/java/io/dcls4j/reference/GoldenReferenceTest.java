package io.dcls4j.reference;

import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;
import io.dcls4j.GoldenCase;
import io.dcls4j.Interpolation;
import io.dcls4j.PyTorchLayout;
import io.dcls4j.io.NdArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Reproduces every golden case of the PyTorch reference (float64) with the pure-Java reference:
 * kernel construction, convolution, and all gradients, to {@code 1e-9 * max(1, max|ref|)}.
 */
class GoldenReferenceTest {

    static final double RELATIVE_TOLERANCE = 1e-9;

    static List<String> cases() {
        return GoldenCase.names();
    }

    @Test
    void goldenDirectoryIsPresent() {
        assertTrue(Files.isDirectory(GoldenCase.dir()),
                "golden directory missing: " + GoldenCase.dir().toAbsolutePath());
        assertFalse(GoldenCase.all().isEmpty());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void reproducesReference(String name) {
        GoldenCase g = GoldenCase.load(name);
        Interpolation interpolation = g.interpolation();
        int[] dks = g.intArray("dilated_kernel_size");
        int groups = g.integer("groups");
        int inChannels = g.integer("in_channels");
        int outChannels = g.integer("out_channels");
        NdArray x = g.array("x");
        int[] xShape = x.intShape();

        ConstructConfig construct = new ConstructConfig(interpolation, outChannels, inChannels / groups,
                g.integer("kernel_count"), dks);
        ConvConfig conv = new ConvConfig(xShape[0], inChannels, outChannels, groups,
                Arrays.copyOfRange(xShape, 2, xShape.length), dks, g.intArray("stride"), g.intArray("padding"),
                g.paddingMode());
        assertArrayEquals(g.array("y").intShape(), concat(xShape[0], outChannels, conv.outputSize()));
        assertEquals(interpolation.learnsSigma(), g.has("SIG"));
        assertEquals(g.bool("bias"), g.has("bias"));

        double[] weight = g.data("weight");
        double[] positions = PyTorchLayout.positionsFromReference(interpolation, dks, g.data("P"));
        double[] sigma = g.has("SIG") ? PyTorchLayout.sigmaFromReference(interpolation, dks, g.data("SIG")) : null;
        double[] bias = g.data("bias");
        double[] gy = g.data("gy");

        List<String> failures = new ArrayList<>();
        StringBuilder report = new StringBuilder(name + ":");

        double[] kernel = ReferenceConstruct.forward(construct, weight, positions, sigma);
        compare(report, failures, "K", g.data("K"), kernel);
        compare(report, failures, "y", g.data("y"), ReferenceConv.forward(conv, x.data(), kernel, bias));
        compare(report, failures, "grad_x", g.data("grad_x"), ReferenceConv.backwardData(conv, gy, kernel));

        double[] gradKernel = ReferenceConv.backwardWeights(conv, x.data(), gy);
        ReferenceConstruct.ConstructGradients grads =
                ReferenceConstruct.backward(construct, weight, positions, sigma, gradKernel);
        compare(report, failures, "grad_weight", g.data("grad_weight"), grads.weight());
        compare(report, failures, "grad_P", g.data("grad_P"),
                PyTorchLayout.gradientsToReference(interpolation, dks, grads.positions()));
        if (g.has("grad_SIG")) {
            assertNotNull(grads.sigma());
            compare(report, failures, "grad_SIG", g.data("grad_SIG"),
                    PyTorchLayout.gradientsToReference(interpolation, dks, grads.sigma()));
        } else {
            assertNull(grads.sigma());
        }
        if (g.has("grad_bias")) {
            compare(report, failures, "grad_bias", g.data("grad_bias"), ReferenceConv.backwardBias(conv, gy));
        }
        System.out.println(report);
        if (!failures.isEmpty()) {
            fail(name + ": " + String.join("; ", failures));
        }
    }

    /** Compares to {@code 1e-9 * max(1, max|expected|)}, appending the relative error achieved to the report. */
    static void compare(StringBuilder report, List<String> failures, String what, double[] expected,
                        double[] actual) {
        if (expected.length != actual.length) {
            failures.add(what + ": length " + actual.length + ", expected " + expected.length);
            return;
        }
        double scale = 1;
        for (double v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        double worst = 0;
        int worstIndex = -1;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]);
            if (!(err <= worst)) { // also catches NaN
                worst = err;
                worstIndex = i;
            }
        }
        report.append(String.format(" %s %.1e", what, worst / scale));
        if (!(worst <= RELATIVE_TOLERANCE * scale)) {
            failures.add(String.format("%s differs by %.3e at flat index %d (expected %.17g, got %.17g, scale %.3g)",
                    what, worst, worstIndex, expected[worstIndex], actual[worstIndex], scale));
        }
    }

    private static int[] concat(int a, int b, int[] rest) {
        int[] r = new int[rest.length + 2];
        r[0] = a;
        r[1] = b;
        System.arraycopy(rest, 0, r, 2, rest.length);
        return r;
    }
}
