package io.dcls4j;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The layer hands its kernel's cells to the plan (the tap-sparse engine): a DclsConv with the engine forced on gives
 * the output, the input gradient and every parameter gradient of the same layer with it forced off, across
 * interpolations, dimensions, groups and strides, in training and in inference mode (rounded positions: one cell per
 * element). Positions are spread over the kernel, where the sparse engine pays.
 */
class LayerSparseEngineTest {

    @AfterEach
    void restore() {
        Dcls.setEngineOption("sparse_conv", "auto");
    }

    static IntStream seeds() {
        return IntStream.range(0, 16);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void sparseOnGivesWhatSparseOffGives(int seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Interpolation interp = Interpolation.values()[seed % 4];
        int ndim = 1 + (seed / 4) % 2;
        boolean depthwise = seed % 3 == 0;
        int groups = depthwise ? 6 : 1 + r.nextInt(2);
        int cin = depthwise ? 6 : 2 * groups;
        int cout = depthwise ? 6 : 3 * groups;
        int dks = ndim == 1 ? 9 + 2 * r.nextInt(8) : 5 + 2 * r.nextInt(3);
        int stride = 1 + r.nextInt(2);
        int[] size = ndim == 1 ? new int[] {40} : new int[] {13, 11};
        boolean inference = seed % 5 == 4;
        Run on = run(true, seed, interp, ndim, cin, cout, groups, dks, stride, size, inference);
        Run off = run(false, seed, interp, ndim, cin, cout, groups, dks, stride, size, inference);
        String where = interp + " " + ndim + "D " + cin + "->" + cout + " groups " + groups + " dks " + dks
                + " stride " + stride + (inference ? " inference" : "") + ": " + on.info;
        assertTrue(on.info.contains("sparse"), "the sparse engine did not run: " + where);
        assertTrue(!off.info.contains("sparse"), off.info);
        close(off.values, on.values, where);
    }

    private record Run(float[] values, String info) {}

    private static Run run(boolean sparse, int seed, Interpolation interp, int ndim, int cin, int cout, int groups,
                           int dks, int stride, int[] size, boolean inference) {
        Dcls.setEngineOption("sparse_conv", sparse ? "always" : "never");
        int[] k = ndim == 1 ? new int[] {dks} : new int[] {dks, dks};
        int[] s = ndim == 1 ? new int[] {stride} : new int[] {stride, stride};
        int[] p = ndim == 1 ? new int[] {dks / 2} : new int[] {dks / 2, dks / 2};
        try (Arena arena = Arena.ofConfined();
             DclsConv conv = DclsConv.builder(cin, cout).kernelCount(3).dilatedKernelSize(k).stride(s).padding(p)
                     .groups(groups).interpolation(interp).seed(seed).build()) {
            // spread the positions over the kernel (the reference's default init keeps them near the centre)
            Tensor positions = conv.namedParameters().get("P").value();
            SplittableRandom r = new SplittableRandom(seed + 77);
            for (long i = 0; i < positions.elementCount(); i++) {
                positions.set(i, (float) r.nextDouble(-dks / 2.0, dks / 2.0));
            }
            long[] shape = ndim == 1 ? new long[] {2, cin, size[0]} : new long[] {2, cin, size[0], size[1]};
            Tensor x = Tensor.allocate(arena, shape);
            for (long i = 0; i < x.elementCount(); i++) {
                x.set(i, (float) r.nextDouble(-1, 1));
            }
            if (inference) {
                conv.inferenceMode(true);
                Tensor y = conv.forward(x);
                return new Run(y.toFloatArray(), conv.engineInfo());
            }
            Tensor y = conv.forward(x);
            Tensor gy = Tensor.allocate(arena, y.shape());
            for (long i = 0; i < gy.elementCount(); i++) {
                gy.set(i, (float) r.nextDouble(-1, 1));
            }
            float[] yv = y.toFloatArray();
            Tensor gx = conv.backward(gy);
            java.util.List<float[]> parts = new java.util.ArrayList<>(java.util.List.of(yv, gx.toFloatArray()));
            for (Parameter param : conv.parameters()) {
                parts.add(param.grad().toFloatArray());
            }
            int n = parts.stream().mapToInt(a -> a.length).sum();
            float[] all = new float[n];
            int at = 0;
            for (float[] a : parts) {
                System.arraycopy(a, 0, all, at, a.length);
                at += a.length;
            }
            return new Run(all, conv.engineInfo());
        }
    }

    /** Within 1e-4 of the larger of 1 and the largest expected magnitude (float sums in other orders). */
    private static void close(float[] expected, float[] actual, String where) {
        assertTrue(expected.length == actual.length, where);
        double scale = 1;
        for (float v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Math.abs(expected[i] - actual[i]) <= 1e-4 * scale,
                    "value " + i + ": " + actual[i] + " against " + expected[i] + " (" + where + ")");
        }
    }
}
