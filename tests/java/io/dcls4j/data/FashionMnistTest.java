package io.dcls4j.data;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    /** Copies the first {@code n} items of Debian's IDX file {@code name} into {@code dir}, the count set to n. */
    private static void cutPrefix(String name, int n, Path dir) throws IOException {
        byte[] all;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(FashionMnist.DEFAULT_DIR.resolve(name + ".gz")))) {
            all = in.readAllBytes();
        }
        int dims = all[3];
        ByteBuffer header = ByteBuffer.wrap(all, 0, 4 + 4 * dims);
        int itemBytes = 1;
        for (int d = 1; d < dims; d++) {
            itemBytes *= header.getInt(4 + 4 * d);
        }
        byte[] cut = Arrays.copyOf(all, 4 + 4 * dims + n * itemBytes);
        ByteBuffer.wrap(cut).putInt(4, n);
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(dir.resolve(name + ".gz")))) {
            out.write(cut);
        }
    }

    @Test
    void aPrefixOfTheFilesLoadsAsTheFirstImagesOnlyWhereAllowed(@TempDir Path dir) throws IOException {
        cutPrefix("train-images-idx3-ubyte", 300, dir);
        cutPrefix("train-labels-idx1-ubyte", 300, dir);
        cutPrefix("t10k-images-idx3-ubyte", 40, dir);
        cutPrefix("t10k-labels-idx1-ubyte", 40, dir);
        ImageDataset head = FashionMnist.trainPrefix(dir);
        assertEquals(300, head.size());
        assertArrayEquals(train.first(300).pixelArray(), head.pixelArray());
        assertArrayEquals(train.first(300).labelArray(), head.labelArray());
        ImageDataset testHead = FashionMnist.testPrefix(dir);
        assertEquals(40, testHead.size());
        assertArrayEquals(test.first(40).labelArray(), testHead.labelArray());
        // the plain loaders still insist on the whole sets
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> FashionMnist.train(dir));
        assertTrue(e.getMessage().contains("300 images"), e.getMessage());
        assertThrows(IdxFormatException.class, () -> FashionMnist.test(dir));
        // and the whole sets are prefixes of themselves
        assertEquals(10_000, FashionMnist.testPrefix(FashionMnist.DEFAULT_DIR).size());
    }

    @Test
    void aPrefixLongerThanTheSetIsRefused(@TempDir Path dir) throws IOException {
        // the training files where the test files belong: 10,001 of them cannot be a prefix of the 10,000
        cutPrefix("train-images-idx3-ubyte", 10_001, dir);
        cutPrefix("train-labels-idx1-ubyte", 10_001, dir);
        Files.move(dir.resolve("train-images-idx3-ubyte.gz"), dir.resolve("t10k-images-idx3-ubyte.gz"));
        Files.move(dir.resolve("train-labels-idx1-ubyte.gz"), dir.resolve("t10k-labels-idx1-ubyte.gz"));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> FashionMnist.testPrefix(dir));
        assertTrue(e.getMessage().contains("a prefix: 1 to 10000"), e.getMessage());
    }
}
