package io.dcls4j.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf 2017): 60,000 training and 10,000 test images of clothing, 28 x 28 grey, in
 * 10 balanced classes. Read from a folder holding the four IDX files under their original names, gzip-compressed
 * ({@code train-images-idx3-ubyte.gz}, ...) or not (the same without {@code .gz}); Debian's package
 * {@code dataset-fashion-mnist} installs them in {@link #DEFAULT_DIR}.
 */
public final class FashionMnist {
    /** Where Debian's {@code dataset-fashion-mnist} puts the files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final int TRAIN_SIZE = 60_000;
    public static final int TEST_SIZE = 10_000;
    public static final int ROWS = 28;
    public static final int COLUMNS = 28;
    public static final int CLASSES = 10;
    /** The class names, in label order. */
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    /**
     * Mean and standard deviation of the training set's pixels scaled to [0, 1] (0.28604, 0.35302; the test checks
     * them against the files): the usual normalization.
     */
    public static final Normalization NORMALIZATION = new Normalization(0.2860406f, 0.3530242f);

    /** The default training augmentation: random crop with 2 pixels of padding, random horizontal flip. */
    public static final Augmentation AUGMENTATION = Augmentation.cropAndFlip(2);

    private static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    private static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    private static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    private static final String TEST_LABELS = "t10k-labels-idx1-ubyte";

    private FashionMnist() {
    }

    /**
     * Training batches with this dataset's defaults: shuffled from {@code seed}, {@link #NORMALIZATION},
     * {@link #AUGMENTATION}, the last partial batch dropped.
     */
    public static LoaderOptions trainingOptions(int batchSize, long seed) {
        return LoaderOptions.training(batchSize, seed).withNormalization(NORMALIZATION).withAugmentation(AUGMENTATION);
    }

    /** Test batches with this dataset's defaults: in order, {@link #NORMALIZATION}, no augmentation, every image. */
    public static LoaderOptions evaluationOptions(int batchSize) {
        return LoaderOptions.evaluation(batchSize).withNormalization(NORMALIZATION);
    }

    /** Whether {@code dir} holds the four files (compressed or not). */
    public static boolean isPresent(Path dir) {
        for (String name : List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)) {
            if (!Files.isRegularFile(dir.resolve(name + ".gz")) && !Files.isRegularFile(dir.resolve(name))) {
                return false;
            }
        }
        return true;
    }

    /** The 60,000 training images from {@link #DEFAULT_DIR}. */
    public static ImageDataset train() throws IOException {
        return train(DEFAULT_DIR);
    }

    /** The 10,000 test images from {@link #DEFAULT_DIR}. */
    public static ImageDataset test() throws IOException {
        return test(DEFAULT_DIR);
    }

    /** The 60,000 training images from {@code dir}. */
    public static ImageDataset train(Path dir) throws IOException {
        return load(dir, TRAIN_IMAGES, TRAIN_LABELS, TRAIN_SIZE, false);
    }

    /** The 10,000 test images from {@code dir}. */
    public static ImageDataset test(Path dir) throws IOException {
        return load(dir, TEST_IMAGES, TEST_LABELS, TEST_SIZE, false);
    }

    /**
     * The training images from {@code dir}, whose files may hold only the first N of the 60,000 (IDX files with
     * their count set to N): a slice for a quick run where the whole set cannot be had, e.g. a GPU machine reached
     * through a size-limited copy ({@code scripts/idx_head.py} cuts one). {@link #train(Path)} refuses a slice.
     */
    public static ImageDataset trainPrefix(Path dir) throws IOException {
        return load(dir, TRAIN_IMAGES, TRAIN_LABELS, TRAIN_SIZE, true);
    }

    /** The test images from {@code dir}, the first N of the 10,000 or all of them, as {@link #trainPrefix}. */
    public static ImageDataset testPrefix(Path dir) throws IOException {
        return load(dir, TEST_IMAGES, TEST_LABELS, TEST_SIZE, true);
    }

    private static ImageDataset load(Path dir, String images, String labels, int expected, boolean prefix)
            throws IOException {
        Path imagesFile = find(dir, images);
        Path labelsFile = find(dir, labels);
        ImageDataset d = ImageDataset.load(imagesFile, labelsFile, CLASSES);
        // well-formed IDX files of the wrong size (a subset, the train and test files swapped) are caught here;
        // a prefix may be smaller, never larger (swapped files are still caught one way round)
        boolean sizeOk = prefix ? d.size() >= 1 && d.size() <= expected : d.size() == expected;
        if (!sizeOk || d.rows() != ROWS || d.columns() != COLUMNS) {
            throw new IdxFormatException(imagesFile, d.size() + " images of " + d.rows() + " x " + d.columns()
                    + "; Fashion-MNIST's " + images + " has " + expected + " of " + ROWS + " x " + COLUMNS
                    + (prefix ? " (a prefix: 1 to " + expected + ")" : ""));
        }
        return d;
    }

    private static Path find(Path dir, String name) throws IOException {
        Path gz = dir.resolve(name + ".gz");
        if (Files.isRegularFile(gz)) {
            return gz;
        }
        Path plain = dir.resolve(name);
        if (Files.isRegularFile(plain)) {
            return plain;
        }
        throw new NoSuchFileException(gz.toString(), null, "Fashion-MNIST file missing (nor " + plain + "); on Debian"
                + " or Ubuntu: apt-get install dataset-fashion-mnist, or download it from"
                + " https://github.com/zalandoresearch/fashion-mnist into " + dir);
    }
}
