package io.dcls4j.data;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * Makes batches synchronously: {@link #fill(int, int, Batch)} writes batch {@code b} of epoch {@code e} (order,
 * augmentation, normalization as the {@link LoaderOptions} say) into a reusable {@link Batch}. The result depends on
 * (options, epoch, b) only, so any batch can be remade exactly; {@link BatchLoader} runs one of these on its own
 * thread.
 *
 * <p>Allocation-free after construction. Not thread-safe (it keeps the current epoch's order and a scratch image):
 * one per thread.
 */
public final class BatchAssembler {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;

    private final ImageDataset data;
    private final LoaderOptions options;
    private final EpochOrder order;
    private final float[] table;
    private final float[] image;
    private final int[] work;
    private final int batchesPerEpoch;
    private int orderEpoch = -1;

    public BatchAssembler(ImageDataset data, LoaderOptions options) {
        this.data = Objects.requireNonNull(data, "data");
        this.options = Objects.requireNonNull(options, "options");
        EpochOrder whole = new EpochOrder(data.size(), options.seed(), options.shuffle());
        this.order = options.worldSize() == 1 ? whole : whole.shard(options.rank(), options.worldSize());
        int n = order.size();
        this.batchesPerEpoch = options.dropLast() ? n / options.batchSize()
                : (int) (((long) n + options.batchSize() - 1) / options.batchSize());
        if (batchesPerEpoch == 0) {
            throw new IllegalArgumentException("batch size " + options.batchSize() + " with the last partial batch"
                    + " dropped leaves no batch of the " + n + " samples " + (options.worldSize() > 1
                    ? "of rank " + options.rank() + " of " + options.worldSize() : "of " + data.name()));
        }
        if (options.augmentation().padding() >= Math.min(data.rows(), data.columns())
                && options.augmentation().padding() > 0) {
            throw new IllegalArgumentException("augmentation padding " + options.augmentation().padding()
                    + " is not smaller than the " + data.rows() + " x " + data.columns() + " images");
        }
        this.table = options.normalization().table();
        this.image = new float[data.rows() * data.columns()];
        this.work = new int[data.size()];
    }

    public ImageDataset dataset() {
        return data;
    }

    public LoaderOptions options() {
        return options;
    }

    /** The order batches follow (this rank's share when sharded). */
    public EpochOrder order() {
        return order;
    }

    /** Samples this rank sees per epoch, the partial batch included unless dropped. */
    public int samplesPerEpoch() {
        return options.dropLast() ? batchesPerEpoch * options.batchSize() : order.size();
    }

    public int batchesPerEpoch() {
        return batchesPerEpoch;
    }

    /** A batch buffer of this assembler's shape, its images in {@code arena}. */
    public Batch newBatch(Arena arena) {
        return new Batch(arena, options.batchSize(), data.rows(), data.columns());
    }

    /** Writes batch {@code batchIndex} of {@code epoch} into {@code into}. */
    public void fill(int epoch, int batchIndex, Batch into) {
        if (batchIndex < 0 || batchIndex >= batchesPerEpoch) {
            throw new IllegalArgumentException("batch " + batchIndex + " of an epoch of " + batchesPerEpoch);
        }
        if (into.capacity() != options.batchSize() || into.buffer().dim(2) != data.rows()
                || into.buffer().dim(3) != data.columns()) {
            throw new IllegalArgumentException("batch buffer " + into.buffer() + " does not fit batches of "
                    + options.batchSize() + " x 1 x " + data.rows() + " x " + data.columns());
        }
        if (epoch != orderEpoch) {
            order.fill(epoch, work); // validates epoch >= 0
            orderEpoch = epoch;
        }
        int first = batchIndex * options.batchSize();
        int size = Math.min(options.batchSize(), order.size() - first);
        MemorySegment out = into.buffer().segment();
        int[] labels = into.labels();
        int[] samples = into.sampleArray();
        byte[] labelArray = data.labelArray();
        long imageBytes = (long) image.length * Float.BYTES;
        for (int k = 0; k < size; k++) {
            int sample = work[first + k];
            samples[k] = sample;
            labels[k] = labelArray[sample] & 0xff;
            render(sample, epoch);
            MemorySegment.copy(image, 0, out, FLOAT, k * imageBytes, image.length);
        }
        into.set(size, epoch, batchIndex);
    }

    /** Sample {@code sample}, augmented for {@code epoch} and normalized, into {@link #image}. */
    private void render(int sample, int epoch) {
        byte[] pixels = data.pixelArray();
        int rows = data.rows();
        int columns = data.columns();
        int base = sample * rows * columns;
        Augmentation aug = options.augmentation();
        if (aug.isIdentity()) {
            for (int i = 0; i < image.length; i++) {
                image[i] = table[pixels[base + i] & 0xff];
            }
            return;
        }
        int drawn = aug.draw(options.seed(), epoch, sample);
        int pad = aug.padding();
        int dy = Augmentation.rowOffset(drawn) - pad;
        int dx = Augmentation.columnOffset(drawn) - pad;
        boolean flip = Augmentation.flipped(drawn);
        float black = table[0];
        // output (y, x) = crop (y, x') with x' = x, or columns - 1 - x when flipped; crop (y, x') = padded image at
        // (y + offset) = original (y + dy, x' + dx), black outside the original
        for (int y = 0; y < rows; y++) {
            int sy = y + dy;
            int row = y * columns;
            if (sy < 0 || sy >= rows) {
                java.util.Arrays.fill(image, row, row + columns, black);
                continue;
            }
            int src = base + sy * columns;
            for (int x = 0; x < columns; x++) {
                int sx = (flip ? columns - 1 - x : x) + dx;
                image[row + x] = sx < 0 || sx >= columns ? black : table[pixels[src + sx] & 0xff];
            }
        }
    }
}
