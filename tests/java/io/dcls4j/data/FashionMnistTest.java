package io.dcls4j.data;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real Fashion-MNIST files as Debian's dataset-fashion-mnist installs them (.ci/run installs it). The expected
 * values were computed from the same files by Python's gzip module, a reader independent of this one.
 */
class FashionMnistTest {
    private static ImageDataset train;
    private static ImageDataset test;

    @BeforeAll
    static void load() throws IOException {
        assumeTrue(FashionMnist.isPresent(FashionMnist.DEFAULT_DIR), "Fashion-MNIST is not in "
                + FashionMnist.DEFAULT_DIR + ": apt-get install dataset-fashion-mnist (CI installs it)");
        train = FashionMnist.train();
        test = FashionMnist.test();
    }

    @Test
    void countsAndShapes() {
        assertEquals(60_000, train.size());
        assertEquals(10_000, test.size());
        for (ImageDataset d : new ImageDataset[] {train, test}) {
            assertEquals(28, d.rows());
            assertEquals(28, d.columns());
            assertEquals(10, d.classes());
        }
    }

    @Test
    void everyClassHasItsShare() {
        int[] sixThousand = new int[10];
        Arrays.fill(sixThousand, 6000);
        assertArrayEquals(sixThousand, train.labelHistogram());
        int[] thousand = new int[10];
        Arrays.fill(thousand, 1000);
        assertArrayEquals(thousand, test.labelHistogram());
    }

    private static long pixelSum(ImageDataset d) {
        long sum = 0;
        for (byte b : d.pixelArray()) {
            sum += b & 0xff;
        }
        return sum;
    }

    @Test
    void contentMatchesAnIndependentReader() {
        int[] firstTrain = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
        int[] firstTest = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
        for (int i = 0; i < 10; i++) {
            assertEquals(firstTrain[i], train.label(i), "train label " + i);
            assertEquals(firstTest[i], test.label(i), "test label " + i);
        }
        assertEquals(3_431_114_169L, pixelSum(train));
        assertEquals(573_469_082L, pixelSum(test));
        int[] trainRow14 = {0, 0, 1, 4, 6, 7, 2, 0, 0, 0, 0, 0, 237, 226, 217, 223, 222, 219, 222, 221, 216, 223,
            229, 215, 218, 255, 77, 0};
        for (int x = 0; x < 28; x++) {
            assertEquals(trainRow14[x], train.pixel(0, 14, x), "train image 0, row 14, column " + x);
        }
    }

    @Test
    void pixelsSpanTheFullByteRange() {
        for (ImageDataset d : new ImageDataset[] {train, test}) {
            int min = 255;
            int max = 0;
            for (byte b : d.pixelArray()) {
                min = Math.min(min, b & 0xff);
                max = Math.max(max, b & 0xff);
            }
            assertEquals(0, min, d.name());
            assertEquals(255, max, d.name());
        }
    }

    @Test
    void theDefaultNormalizationIsTheTrainingSetsStatistics() {
        // Python, in double: mean 0.2860405969887955, std 0.35302424451492254
        Normalization measured = train.pixelStatistics();
        assertEquals(0.2860405969887955, measured.mean(), 1e-7);
        assertEquals(0.35302424451492254, measured.std(), 1e-7);
        assertEquals(0.2860405969887955, FashionMnist.NORMALIZATION.mean(), 1e-7);
        assertEquals(0.35302424451492254, FashionMnist.NORMALIZATION.std(), 1e-7);
    }

    @Test
    void theDatasetsDefaultOptions() {
        LoaderOptions t = FashionMnist.trainingOptions(128, 3);
        assertEquals(FashionMnist.NORMALIZATION, t.normalization());
        assertEquals(Augmentation.cropAndFlip(2), t.augmentation());
        assertTrue(t.shuffle() && t.dropLast());
        LoaderOptions e = FashionMnist.evaluationOptions(500);
        assertEquals(FashionMnist.NORMALIZATION, e.normalization());
        assertEquals(Augmentation.NONE, e.augmentation());
        assertFalse(e.shuffle() || e.dropLast());
        // with dropLast: 468 full batches of 128 (60,000 = 468 x 128 + 96)
        assertEquals(468, new BatchAssembler(train, t).batchesPerEpoch());
        assertEquals(20, new BatchAssembler(test, e).batchesPerEpoch());
    }

    @Test
    void anEpochOfTrainingBatchesCoversEveryImageOnce() {
        LoaderOptions o = FashionMnist.trainingOptions(256, 7).withDropLast(false);
        int[] seen = new int[train.size()];
        int[] perClass = new int[10];
        try (BatchLoader loader = new BatchLoader(train, o, 0)) {
            assertEquals(235, loader.batchesPerEpoch()); // 234 full batches and one of 96
            for (int b = 0; b < loader.batchesPerEpoch(); b++) {
                Batch batch = loader.next();
                assertEquals(b, batch.index());
                assertEquals(b < 234 ? 256 : 96, batch.size());
                assertArrayEquals(new long[] {batch.size(), 1, 28, 28}, batch.images().shape());
                for (int i = 0; i < batch.size(); i++) {
                    seen[batch.sampleIndex(i)]++;
                    perClass[batch.labels()[i]]++;
                    assertEquals(train.label(batch.sampleIndex(i)), batch.labels()[i]);
                }
            }
        }
        for (int i = 0; i < seen.length; i++) {
            assertEquals(1, seen[i], "image " + i);
        }
        int[] sixThousand = new int[10];
        Arrays.fill(sixThousand, 6000);
        assertArrayEquals(sixThousand, perClass);
    }
}
