package io.dcls4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A labelled set of greyscale images held in memory as unsigned bytes (Fashion-MNIST's training set is 47 MB this
 * way): {@link #size()} images of {@link #rows()} x {@link #columns()} pixels, each with a class label in
 * {@code [0, classes)}. Immutable; any number of threads may read it at once.
 */
public final class ImageDataset {
    private final String name;
    private final int size;
    private final int rows;
    private final int columns;
    private final int classes;
    private final byte[] pixels;
    private final byte[] labels;

    private ImageDataset(String name, int size, int rows, int columns, int classes, byte[] pixels, byte[] labels) {
        this.name = name;
        this.size = size;
        this.rows = rows;
        this.columns = columns;
        this.classes = classes;
        this.pixels = pixels;
        this.labels = labels;
    }

    /**
     * Reads an images file and its labels file (IDX, plain or gzip). Throws {@link IdxFormatException} when either is
     * malformed, when their counts differ, when the set is empty or when a label is not below {@code classes}.
     */
    public static ImageDataset load(Path imagesFile, Path labelsFile, int classes) throws IOException {
        checkClasses(classes);
        IdxImages images = Idx.readImages(imagesFile);
        byte[] labels = Idx.readLabels(labelsFile);
        if (labels.length != images.count()) {
            throw new IdxFormatException(labelsFile, labels.length + " labels for the " + images.count()
                    + " images of " + imagesFile + "; an images file and its labels file must have the same count");
        }
        if (images.count() == 0) {
            throw new IdxFormatException(imagesFile, "holds no images");
        }
        int bad = firstLabelNotBelow(labels, classes);
        if (bad >= 0) {
            throw new IdxFormatException(labelsFile, "label " + (labels[bad] & 0xff) + " of sample " + bad
                    + " is not a class of " + classes + " (0 to " + (classes - 1) + ")");
        }
        return new ImageDataset(imagesFile.getFileName().toString(), images.count(), images.rows(),
                images.columns(), classes, images.pixels(), labels);
    }

    /**
     * A dataset from memory (synthetic data, a subset): {@code pixels} holds {@code labels.length} images of
     * {@code rows x columns} unsigned bytes, row-major. The arrays are copied.
     */
    public static ImageDataset of(String name, int rows, int columns, int classes, byte[] pixels, byte[] labels) {
        Objects.requireNonNull(name, "name");
        checkClasses(classes);
        if (rows < 1 || columns < 1) {
            throw new IllegalArgumentException("images of " + rows + " x " + columns + " pixels; sizes must be >= 1");
        }
        if (labels == null || labels.length == 0) {
            throw new IllegalArgumentException("a dataset needs at least one labelled image");
        }
        if (pixels == null || pixels.length != (long) labels.length * rows * columns) {
            throw new IllegalArgumentException("pixels: expected " + labels.length + " x " + rows + " x " + columns
                    + " = " + (long) labels.length * rows * columns + " bytes, got "
                    + (pixels == null ? "null" : pixels.length));
        }
        int bad = firstLabelNotBelow(labels, classes);
        if (bad >= 0) {
            throw new IllegalArgumentException("label " + (labels[bad] & 0xff) + " of sample " + bad
                    + " is not a class of " + classes);
        }
        return new ImageDataset(name, labels.length, rows, columns, classes, pixels.clone(), labels.clone());
    }

    private static void checkClasses(int classes) {
        if (classes < 1 || classes > 256) {
            throw new IllegalArgumentException("classes must be in [1, 256] (labels are bytes), got " + classes);
        }
    }

    private static int firstLabelNotBelow(byte[] labels, int classes) {
        for (int i = 0; i < labels.length; i++) {
            if ((labels[i] & 0xff) >= classes) {
                return i;
            }
        }
        return -1;
    }

    /** The first {@code n} samples, in order (a quick evaluation, a small check); this dataset when n >= size. */
    public ImageDataset first(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("first(" + n + "): a dataset needs at least one sample");
        }
        if (n >= size) {
            return this;
        }
        int pixelsPerImage = rows * columns;
        return new ImageDataset(name + " (first " + n + ")", n, rows, columns, classes,
                java.util.Arrays.copyOf(pixels, n * pixelsPerImage), java.util.Arrays.copyOf(labels, n));
    }

    /** Where the data came from (the images file's name), for messages. */
    public String name() {
        return name;
    }

    /** Number of labelled images. */
    public int size() {
        return size;
    }

    /** Image height in pixels. */
    public int rows() {
        return rows;
    }

    /** Image width in pixels. */
    public int columns() {
        return columns;
    }

    /** Number of classes; every label is below it. */
    public int classes() {
        return classes;
    }

    /** The label of image {@code i}. */
    public int label(int i) {
        Objects.checkIndex(i, size);
        return labels[i] & 0xff;
    }

    /** Pixel ({@code row}, {@code column}) of image {@code i}, 0 (black) to 255 (white). */
    public int pixel(int i, int row, int column) {
        Objects.checkIndex(i, size);
        Objects.checkIndex(row, rows);
        Objects.checkIndex(column, columns);
        return pixels[(i * rows + row) * columns + column] & 0xff;
    }

    /** How many images each class has. */
    public int[] labelHistogram() {
        int[] h = new int[classes];
        for (byte b : labels) {
            h[b & 0xff]++;
        }
        return h;
    }

    /** Mean and standard deviation (population) of all pixels scaled to [0, 1], computed in double. */
    public Normalization pixelStatistics() {
        double sum = 0;
        double sumSquares = 0;
        for (byte b : pixels) {
            double v = (b & 0xff) / 255.0;
            sum += v;
            sumSquares += v * v;
        }
        double n = pixels.length;
        double mean = sum / n;
        return new Normalization((float) mean, (float) Math.sqrt(Math.max(sumSquares / n - mean * mean, 0)));
    }

    /** The backing pixels, not copied: for the batch assembler, which only reads them. */
    byte[] pixelArray() {
        return pixels;
    }

    /** The backing labels, not copied: for the batch assembler, which only reads them. */
    byte[] labelArray() {
        return labels;
    }

    @Override
    public String toString() {
        return name + ": " + size + " images of " + rows + " x " + columns + ", " + classes + " classes";
    }
}
