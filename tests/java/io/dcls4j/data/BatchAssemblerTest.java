package io.dcls4j.data;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batches against a straightforward model of what they should hold: the sample's pixels through
 * {@code (p / 255 - mean) / std} in double, padded with black, cropped, mirrored, as written out here.
 */
class BatchAssemblerTest {
    private static final int ROWS = 6;
    private static final int COLUMNS = 5;

    /** {@code n} images of random pixels (so no two crops or mirrors coincide by accident), labels i % classes. */
    private static ImageDataset random(int n, int classes, long seed) {
        byte[] pixels = new byte[n * ROWS * COLUMNS];
        new Random(seed).nextBytes(pixels);
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            labels[i] = (byte) (i % classes);
        }
        return ImageDataset.of("random", ROWS, COLUMNS, classes, pixels, labels);
    }

    private static float normalized(int pixel, Normalization n) {
        return (float) ((pixel / 255.0 - n.mean()) / n.std());
    }

    /** Image {@code k} of the batch, as [row][column]. */
    private static float[][] image(Batch b, int k) {
        float[] all = b.images().toFloatArray();
        float[][] out = new float[ROWS][COLUMNS];
        for (int y = 0; y < ROWS; y++) {
            for (int x = 0; x < COLUMNS; x++) {
                out[y][x] = all[(k * ROWS + y) * COLUMNS + x];
            }
        }
        return out;
    }

    /** The model: pad with black, crop at (oy, ox) of the padded image, mirror if asked, normalize. */
    private static float[][] expected(ImageDataset d, int sample, int pad, int oy, int ox, boolean flip,
                                      Normalization n) {
        int[][] padded = new int[ROWS + 2 * pad][COLUMNS + 2 * pad];
        for (int y = 0; y < ROWS; y++) {
            for (int x = 0; x < COLUMNS; x++) {
                padded[y + pad][x + pad] = d.pixel(sample, y, x);
            }
        }
        float[][] out = new float[ROWS][COLUMNS];
        for (int y = 0; y < ROWS; y++) {
            for (int x = 0; x < COLUMNS; x++) {
                int cropped = padded[y + oy][(flip ? COLUMNS - 1 - x : x) + ox];
                out[y][x] = normalized(cropped, n);
            }
        }
        return out;
    }

    @Test
    void withoutAugmentationABatchIsTheNormalizedSamples() {
        ImageDataset d = random(50, 10, 1);
        Normalization n = new Normalization(0.25f, 0.5f);
        BatchAssembler a = new BatchAssembler(d, LoaderOptions.training(8, 3).withNormalization(n));
        try (Arena arena = Arena.ofConfined()) {
            Batch b = a.newBatch(arena);
            a.fill(2, 3, b);
            assertEquals(8, b.size());
            assertEquals(2, b.epoch());
            assertEquals(3, b.index());
            assertArrayEquals(new long[] {8, 1, ROWS, COLUMNS}, b.images().shape());
            int[] order = new EpochOrder(50, 3, true).order(2);
            for (int k = 0; k < 8; k++) {
                int sample = order[3 * 8 + k];
                assertEquals(sample, b.sampleIndex(k));
                assertEquals(d.label(sample), b.labels()[k]);
                assertTrue(Arrays.deepEquals(expected(d, sample, 0, 0, 0, false, n), image(b, k)), "image " + k);
            }
        }
    }

    @Test
    void normalizationValues() {
        Normalization n = FashionMnist.NORMALIZATION;
        assertEquals(-0.2860406f / 0.3530242f, n.apply(0), 1e-6f);
        assertEquals((1 - 0.2860406f) / 0.3530242f, n.apply(255), 1e-6f);
        assertEquals(0f, Normalization.NONE.apply(0));
        assertEquals(1f, Normalization.NONE.apply(255));
        assertEquals(128 / 255.0, Normalization.NONE.apply(128), 1e-7);
        assertThrows(IllegalArgumentException.class, () -> new Normalization(0f, 0f));
        assertThrows(IllegalArgumentException.class, () -> new Normalization(Float.NaN, 1f));
        assertThrows(IllegalArgumentException.class, () -> n.apply(256));
    }

    /** The (oy, ox, flip) choices of {@code expected} that give exactly batch image {@code k}. */
    private static int matches(Batch b, int k, ImageDataset d, int pad, boolean flips, Normalization n,
                               int[] rowHits, int[] columnHits, int[] flipHits) {
        int found = 0;
        float[][] got = image(b, k);
        for (int oy = 0; oy <= 2 * pad; oy++) {
            for (int ox = 0; ox <= 2 * pad; ox++) {
                for (int f = 0; f < (flips ? 2 : 1); f++) {
                    if (Arrays.deepEquals(expected(d, b.sampleIndex(k), pad, oy, ox, f == 1, n), got)) {
                        found++;
                        rowHits[oy]++;
                        columnHits[ox]++;
                        flipHits[f]++;
                    }
                }
            }
        }
        return found;
    }

    @Test
    void cropWithPaddingIsAShiftedWindowWithBlackBorders() {
        checkAugmentation(new Augmentation(2, false));
    }

    @Test
    void flipIsAnExactMirror() {
        checkAugmentation(new Augmentation(0, true));
    }

    @Test
    void cropAndFlipTogether() {
        checkAugmentation(Augmentation.cropAndFlip(2));
    }

    /**
     * Every augmented image is exactly one of the (2 pad + 1)^2 crops, mirrored or not, of its sample; the shape never
     * changes; and over many samples every offset and both flips occur.
     */
    private static void checkAugmentation(Augmentation aug) {
        ImageDataset d = random(64, 4, 2);
        Normalization n = FashionMnist.NORMALIZATION;
        int pad = aug.padding();
        BatchAssembler a = new BatchAssembler(d, LoaderOptions.training(64, 5).withNormalization(n)
                .withAugmentation(aug));
        int[] rowHits = new int[2 * pad + 1];
        int[] columnHits = new int[2 * pad + 1];
        int[] flipHits = new int[2];
        try (Arena arena = Arena.ofConfined()) {
            Batch b = a.newBatch(arena);
            for (int epoch = 0; epoch < 4; epoch++) {
                a.fill(epoch, 0, b);
                assertArrayEquals(new long[] {64, 1, ROWS, COLUMNS}, b.images().shape());
                for (int k = 0; k < b.size(); k++) {
                    assertEquals(1, matches(b, k, d, pad, aug.horizontalFlip(), n, rowHits, columnHits, flipHits),
                            "image " + k + " of epoch " + epoch + " is not exactly one crop/mirror of its sample");
                }
            }
        }
        for (int i = 0; i <= 2 * pad; i++) {
            assertTrue(rowHits[i] > 0, "row offset " + i + " never drawn");
            assertTrue(columnHits[i] > 0, "column offset " + i + " never drawn");
        }
        if (aug.horizontalFlip()) {
            // 256 draws of a fair coin: 128 +- 5 sigma (8)
            assertTrue(Math.abs(flipHits[1] - 128) < 40, "flipped " + flipHits[1] + " of 256");
        }
    }

    @Test
    void augmentationIsReproducibleAndNewEveryEpoch() {
        ImageDataset d = random(32, 4, 3);
        LoaderOptions o = LoaderOptions.training(32, 11).withAugmentation(Augmentation.cropAndFlip(2))
                .withShuffle(false);
        try (Arena arena = Arena.ofConfined()) {
            BatchAssembler a = new BatchAssembler(d, o);
            BatchAssembler again = new BatchAssembler(d, o);
            Batch b = a.newBatch(arena);
            Batch c = a.newBatch(arena);
            a.fill(1, 0, b);
            again.fill(1, 0, c);
            assertArrayEquals(b.images().toFloatArray(), c.images().toFloatArray());
            again.fill(2, 0, c); // same samples in the same order, other epoch: other crops
            assertFalse(Arrays.equals(b.images().toFloatArray(), c.images().toFloatArray()));
            new BatchAssembler(d, o.withSeed(12)).fill(1, 0, c);
            assertFalse(Arrays.equals(b.images().toFloatArray(), c.images().toFloatArray()));
        }
    }

    @Test
    void everySampleOnceAnEpochAcrossBatchesAndShards() {
        ImageDataset d = random(103, 10, 4);
        for (int world : new int[] {1, 2, 3}) {
            int[] seen = new int[103];
            for (int r = 0; r < world; r++) {
                BatchAssembler a = new BatchAssembler(d, LoaderOptions.training(10, 8).withDropLast(false)
                        .withShard(r, world));
                try (Arena arena = Arena.ofConfined()) {
                    Batch b = a.newBatch(arena);
                    int total = 0;
                    for (int i = 0; i < a.batchesPerEpoch(); i++) {
                        a.fill(6, i, b);
                        for (int k = 0; k < b.size(); k++) {
                            seen[b.sampleIndex(k)]++;
                        }
                        assertEquals(b.size(), b.images().dim(0));
                        total += b.size();
                    }
                    assertEquals(a.samplesPerEpoch(), total);
                }
            }
            for (int i = 0; i < seen.length; i++) {
                assertEquals(1, seen[i], "world " + world + ", sample " + i);
            }
        }
    }

    @Test
    void dropLastLeavesOutOnlyThePartialBatch() {
        ImageDataset d = random(103, 10, 4);
        BatchAssembler dropped = new BatchAssembler(d, LoaderOptions.training(10, 8));
        assertEquals(10, dropped.batchesPerEpoch());
        assertEquals(100, dropped.samplesPerEpoch());
        BatchAssembler kept = new BatchAssembler(d, LoaderOptions.evaluation(10));
        assertEquals(11, kept.batchesPerEpoch());
        assertEquals(103, kept.samplesPerEpoch());
        try (Arena arena = Arena.ofConfined()) {
            Batch b = kept.newBatch(arena);
            kept.fill(0, 10, b);
            assertEquals(3, b.size());
            assertArrayEquals(new long[] {3, 1, ROWS, COLUMNS}, b.images().shape());
            assertEquals(100, b.sampleIndex(0)); // evaluation: in order
            assertThrows(IndexOutOfBoundsException.class, () -> b.sampleIndex(3));
            kept.fill(0, 9, b);
            assertEquals(10, b.images().dim(0));
            assertThrows(IllegalArgumentException.class, () -> kept.fill(0, 11, b));
            assertThrows(IllegalArgumentException.class, () -> dropped.fill(0, 0, new BatchAssembler(d,
                    LoaderOptions.training(5, 1)).newBatch(arena)));
        }
        assertThrows(IllegalArgumentException.class, () -> new BatchAssembler(d, LoaderOptions.training(200, 1)));
        assertThrows(IllegalArgumentException.class, () -> new BatchAssembler(d, LoaderOptions.training(10, 1)
                .withAugmentation(Augmentation.cropAndFlip(5))));
    }
}
