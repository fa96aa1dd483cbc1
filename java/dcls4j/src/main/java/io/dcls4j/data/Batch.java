package io.dcls4j.data;

import io.dcls4j.Tensor;

import java.lang.foreign.Arena;
import java.util.Objects;

/**
 * One batch of inputs and labels in reusable memory: images as an off-heap float32 tensor (N, 1, rows, columns), labels
 * as an {@code int[]}. A {@link BatchAssembler} or a {@link BatchLoader} fills it again and again; nothing is allocated
 * per batch.
 *
 * <p>{@link #size()} samples are valid: the capacity, except in an epoch's last batch when it is smaller. Then
 * {@link #images()} is a view of the first {@code size()} images (made once and kept), and only
 * {@code labels()[0 .. size())} are meaningful.
 */
public final class Batch {
    private final Tensor full;
    private final int[] labels;
    private final int[] samples;
    private Tensor partial;
    private int size;
    private int epoch = -1;
    private int index = -1;

    Batch(Arena arena, int capacity, int rows, int columns) {
        Objects.requireNonNull(arena, "arena");
        this.full = Tensor.allocate(arena, capacity, 1, rows, columns);
        this.labels = new int[capacity];
        this.samples = new int[capacity];
    }

    /** The images, (size(), 1, rows, columns), normalized and augmented. */
    public Tensor images() {
        if (size == full.dim(0)) {
            return full;
        }
        if (partial == null || partial.dim(0) != size) {
            partial = Tensor.wrap(full.segment(), size, 1, full.dim(2), full.dim(3));
        }
        return partial;
    }

    /** The labels: entries {@code [0, size())} are this batch's, the rest left from earlier batches. */
    public int[] labels() {
        return labels;
    }

    /** Number of valid samples. */
    public int size() {
        return size;
    }

    /** Samples the buffers hold: the batch size. */
    public int capacity() {
        return labels.length;
    }

    /** The epoch this batch belongs to. */
    public int epoch() {
        return epoch;
    }

    /** Which batch of its epoch this is, from 0. */
    public int index() {
        return index;
    }

    /** The dataset index of sample {@code i} of this batch (which image and label it is). */
    public int sampleIndex(int i) {
        Objects.checkIndex(i, size);
        return samples[i];
    }

    /** The whole-capacity tensor, for the assembler to write. */
    Tensor buffer() {
        return full;
    }

    int[] sampleArray() {
        return samples;
    }

    void set(int size, int epoch, int index) {
        this.size = size;
        this.epoch = epoch;
        this.index = index;
    }
}
