package io.dcls4j.vector;

import io.dcls4j.PaddingMode;
import io.dcls4j.ops.ConvConfig;
import io.dcls4j.reference.ReferenceConv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static io.dcls4j.Compare.close;
import static io.dcls4j.Compare.toDouble;
import static io.dcls4j.vector.RandomData.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** {@link VectorConv} against the float64 {@link ReferenceConv} on hand-picked and random configurations. */
class VectorConvTest {

    /** Hand-picked: every kernel path (4x4 blocks, remainders, depthwise), widths off the vector length. */
    static Stream<Arguments> picked() {
        List<Arguments> list = new ArrayList<>();
        PaddingMode z = PaddingMode.ZEROS;
        // depthwise 2-D, like the benchmark, small
        list.add(Arguments.of(new ConvConfig(2, 6, 6, 6, new int[]{13, 19}, new int[]{7, 7}, new int[]{1, 1},
                new int[]{3, 3}, z), false));
        // depthwise with multiplier 2, width 56 (3.5 vectors), stride 2 on H
        list.add(Arguments.of(new ConvConfig(1, 3, 6, 3, new int[]{11, 56}, new int[]{5, 9}, new int[]{2, 1},
                new int[]{2, 4}, z), true));
        // dense, 8 output channels (two 4-blocks), width 32
        list.add(Arguments.of(new ConvConfig(2, 5, 8, 1, new int[]{9, 32}, new int[]{3, 3}, new int[]{1, 1},
                new int[]{1, 1}, z), false));
        // dense, 7 output channels per group (4-block + 3 singles), 2 groups, stride 3 on W
        list.add(Arguments.of(new ConvConfig(2, 6, 14, 2, new int[]{7, 37}, new int[]{3, 4}, new int[]{1, 3},
                new int[]{1, 2}, z), true));
        // 1-D dense, long row, big kernel
        list.add(Arguments.of(new ConvConfig(2, 4, 8, 1, new int[]{150}, new int[]{41}, new int[]{1},
                new int[]{20}, z), false));
        // 1-D depthwise
        list.add(Arguments.of(new ConvConfig(2, 5, 5, 5, new int[]{70}, new int[]{9}, new int[]{2},
                new int[]{4}, z), false));
        // 3-D dense and depthwise
        list.add(Arguments.of(new ConvConfig(2, 3, 4, 1, new int[]{4, 5, 17}, new int[]{2, 3, 3},
                new int[]{1, 2, 1}, new int[]{1, 1, 1}, z), false));
        list.add(Arguments.of(new ConvConfig(1, 4, 4, 4, new int[]{5, 6, 20}, new int[]{3, 5, 6},
                new int[]{2, 1, 2}, new int[]{1, 2, 3}, z), true));
        // depthwise weight-gradient row blocks: every kernel height from 2 to 10 (blocks of 4, 5, 3, 2 rows)
        for (int kh = 2; kh <= 10; kh++) {
            list.add(Arguments.of(new ConvConfig(2, 3, 3, 3, new int[]{kh + 3, 23}, new int[]{kh, 3 + kh % 5},
                    new int[]{1, 1 + kh % 2}, new int[]{1, 2}, z), kh % 3 == 0));
        }
        // padding larger than the kernel, non-zero padding modes
        list.add(Arguments.of(new ConvConfig(1, 2, 4, 1, new int[]{6, 10}, new int[]{2, 3}, new int[]{1, 1},
                new int[]{4, 5}, z), false));
        for (PaddingMode m : new PaddingMode[]{PaddingMode.REFLECT, PaddingMode.REPLICATE, PaddingMode.CIRCULAR}) {
            list.add(Arguments.of(new ConvConfig(2, 4, 4, 4, new int[]{9, 21}, new int[]{5, 5}, new int[]{1, 2},
                    new int[]{2, 3}, m), false));
            list.add(Arguments.of(new ConvConfig(1, 4, 8, 2, new int[]{7, 18}, new int[]{3, 4}, new int[]{2, 1},
                    new int[]{2, 3}, m), true));
        }
        return list.stream();
    }

    /** Random configurations: all dims, group kinds, strides 1..3, paddings and modes, odd sizes. */
    static Stream<Arguments> randomConfigs() {
        Random r = new Random(20240611);
        List<Arguments> list = new ArrayList<>();
        int[] widths = {1, 3, 5, 16, 17, 23, 33, 40, 70};
        while (list.size() < 60) {
            int ndim = 1 + r.nextInt(3);
            int kind = r.nextInt(5);
            int groups;
            int cin;
            int cout;
            switch (kind) {
                case 0 -> { groups = 1; cin = 1 + r.nextInt(4); cout = 1 + r.nextInt(9); }
                case 1 -> { groups = 2; cin = 2 * (1 + r.nextInt(3)); cout = 2 * (1 + r.nextInt(6)); }
                case 2 -> { cin = 1 + r.nextInt(6); groups = cin; cout = cin; }
                case 3 -> { cin = 1 + r.nextInt(4); groups = cin; cout = cin * (2 + r.nextInt(4)); }
                default -> { groups = 2; cin = 2 * (2 + r.nextInt(2)); cout = 2 * (4 + r.nextInt(3)); }
            }
            PaddingMode mode = PaddingMode.values()[r.nextInt(4)];
            int[] in = new int[ndim];
            int[] k = new int[ndim];
            int[] s = new int[ndim];
            int[] p = new int[ndim];
            boolean ok = true;
            for (int d = 0; d < ndim; d++) {
                boolean last = d == ndim - 1;
                in[d] = last ? widths[r.nextInt(widths.length)] : 1 + r.nextInt(ndim == 3 ? 5 : 9);
                k[d] = 1 + r.nextInt(last ? 7 : 5);
                s[d] = 1 + r.nextInt(3);
                p[d] = r.nextInt(4);
                if (mode == PaddingMode.REFLECT && p[d] >= in[d]) {
                    p[d] = in[d] - 1;
                }
                if (mode == PaddingMode.CIRCULAR && p[d] > in[d]) {
                    p[d] = in[d];
                }
                ok &= in[d] + 2 * p[d] >= k[d];
            }
            if (!ok) {
                continue;
            }
            list.add(Arguments.of(new ConvConfig(1 + r.nextInt(3), cin, cout, groups, in, k, s, p, mode),
                    r.nextBoolean()));
        }
        return list.stream();
    }

    @ParameterizedTest
    @MethodSource({"picked", "randomConfigs"})
    void matchesReference(ConvConfig c, boolean sparseKernel) {
        Random r = new Random(c.hashCode());
        float[] x = random(r, c.inputLength());
        float[] kernel = random(r, c.kernelLength());
        if (sparseKernel) {
            sparsify(c, kernel, r);
        }
        float[] bias = random(r, c.outChannels());
        float[] gy = random(r, c.outputLength());
        double[] xd = toDouble(x);
        double[] kd = toDouble(kernel);
        double[] gyd = toDouble(gy);

        VectorConv conv = new VectorConv(c);
        float[] y = new float[c.outputLength()];
        conv.forward(x, kernel, bias, y);
        close("forward " + c, ReferenceConv.forward(c, xd, kd, toDouble(bias)), y);
        conv.forward(x, kernel, null, y);
        close("forward without bias " + c, ReferenceConv.forward(c, xd, kd, null), y);

        float[] gx = new float[c.inputLength()];
        conv.backwardData(gy, kernel, gx);
        close("backwardData " + c, ReferenceConv.backwardData(c, gyd, kd), gx);

        float[] gk = new float[c.kernelLength()];
        conv.backwardWeights(x, gy, gk);
        close("backwardWeights " + c, ReferenceConv.backwardWeights(c, xd, gyd), gk);

        float[] gb = new float[c.outChannels()];
        conv.backwardBias(gy, gb, false);
        close("backwardBias " + c, ReferenceConv.backwardBias(c, gyd), gb);

        // a second round on the same instance with other data: buffers are reused, borders must stay right
        float[] x2 = random(r, c.inputLength());
        float[] gy2 = random(r, c.outputLength());
        conv.forward(x2, kernel, bias, y);
        close("forward, second call " + c, ReferenceConv.forward(c, toDouble(x2), kd, toDouble(bias)), y);
        conv.backwardData(gy2, kernel, gx);
        close("backwardData, second call " + c, ReferenceConv.backwardData(c, toDouble(gy2), kd), gx);
        conv.backwardWeights(x2, gy2, gk);
        close("backwardWeights, second call " + c, ReferenceConv.backwardWeights(c, toDouble(x2), toDouble(gy2)),
                gk);
    }

    /** Zeroes most kernel values and whole kernel rows, to exercise the skipping of zero taps. */
    private static void sparsify(ConvConfig c, float[] kernel, Random r) {
        int[] ks = c.kernelSize();
        int kw = ks[ks.length - 1];
        for (int row = 0; row < kernel.length / kw; row++) {
            boolean emptyRow = r.nextInt(3) == 0;
            for (int j = 0; j < kw; j++) {
                if (emptyRow || r.nextInt(10) < 6) {
                    kernel[row * kw + j] = 0f;
                }
            }
        }
    }

    @Test
    void accumulatesBiasGradientAndReadsNativeMemory() {
        ConvConfig c = new ConvConfig(2, 4, 8, 2, new int[]{5, 19}, new int[]{3, 3}, new int[]{1, 1},
                new int[]{1, 1}, PaddingMode.ZEROS);
        Random r = new Random(7);
        float[] x = random(r, c.inputLength());
        float[] kernel = random(r, c.kernelLength());
        float[] gy = random(r, c.outputLength());
        VectorConv conv = new VectorConv(c);
        float[] fromArray = new float[c.outputLength()];
        conv.forward(x, kernel, null, fromArray);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate((long) x.length * Float.BYTES, 64);
            MemorySegment.copy(x, 0, seg, ValueLayout.JAVA_FLOAT, 0, x.length);
            float[] fromSegment = new float[c.outputLength()];
            conv.forward(seg, kernel, null, fromSegment);
            assertArrayEquals(fromArray, fromSegment);
        }
        float[] gb = new float[c.outChannels()];
        conv.backwardBias(gy, gb, false);
        conv.backwardBias(gy, gb, true);
        double[] once = ReferenceConv.backwardBias(c, toDouble(gy));
        double[] twice = new double[once.length];
        for (int i = 0; i < once.length; i++) {
            twice[i] = 2 * once[i];
        }
        close("accumulated bias gradient", twice, gb);
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        ConvConfig c = new ConvConfig(3, 6, 6, 6, new int[]{12, 40}, new int[]{5, 5}, new int[]{1, 1},
                new int[]{2, 2}, PaddingMode.ZEROS);
        Random r = new Random(3);
        float[] x = random(r, c.inputLength());
        float[] kernel = random(r, c.kernelLength());
        float[] gy = random(r, c.outputLength());
        int before = VectorParallel.threads();
        try {
            float[][] results = new float[2][];
            for (int t = 0; t < 2; t++) {
                VectorParallel.setThreads(t == 0 ? 1 : 3);
                VectorConv conv = new VectorConv(c);
                float[] gk = new float[c.kernelLength()];
                conv.backwardWeights(x, gy, gk);
                results[t] = gk;
            }
            assertArrayEquals(results[0], results[1]);
        } finally {
            VectorParallel.setThreads(before);
        }
    }
}
