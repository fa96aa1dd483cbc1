package io.dcls4j.ops;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A box of kernel cells, {@code [lo(d), hi(d))} along each spatial axis d, outside which a kernel is
 * known to be 0: {@link KernelConstruction#window} finds it for a constructed kernel and
 * {@link Convolution#setKernelWindow} lets the convolution skip the rest. DCLS kernels start with
 * their elements near the centre (bilinear: 2 cells per axis each), so early in training the box is
 * a small part of a large kernel.
 *
 * <p>Mutable and reused (its six bounds live in native memory, so filling it allocates nothing):
 * not thread-safe.
 */
public final class KernelWindow {
    private static final long BYTES = 6 * Long.BYTES;

    private final int ndim;
    private final MemorySegment bounds;  // lo[3], hi[3]
    private final MemorySegment lower;
    private final MemorySegment upper;

    /** The whole kernel of the given spatial size. */
    public KernelWindow(int... kernelSize) {
        if (kernelSize.length < 1 || kernelSize.length > 3) {
            throw new IllegalArgumentException("a kernel window has 1 to 3 axes, got " + kernelSize.length);
        }
        this.ndim = kernelSize.length;
        bounds = Arena.ofAuto().allocate(BYTES, Long.BYTES);
        lower = bounds.asSlice(0, 3 * Long.BYTES);
        upper = bounds.asSlice(3 * Long.BYTES, 3 * Long.BYTES);
        for (int d = 0; d < 3; d++) {
            set(d, 0, d < ndim ? kernelSize[d] : 1);
        }
    }

    public int ndim() {
        return ndim;
    }

    /** The first cell of the box along axis d. */
    public long lo(int axis) {
        return bounds.getAtIndex(ValueLayout.JAVA_LONG, checkAxis(axis));
    }

    /** One past the last cell of the box along axis d. */
    public long hi(int axis) {
        return bounds.getAtIndex(ValueLayout.JAVA_LONG, 3 + checkAxis(axis));
    }

    /** Sets the box along axis d to {@code [lo, hi)}; checked against a kernel when it is used. */
    public KernelWindow set(int axis, long lo, long hi) {
        bounds.setAtIndex(ValueLayout.JAVA_LONG, checkAxis(axis), lo);
        bounds.setAtIndex(ValueLayout.JAVA_LONG, 3 + axis, hi);
        return this;
    }

    /** The number of cells in the box. */
    public long volume() {
        long v = 1;
        for (int d = 0; d < ndim; d++) {
            v *= hi(d) - lo(d);
        }
        return v;
    }

    /** Throws {@link IllegalArgumentException} unless {@code window} has {@code ndim} axes. */
    static void requireAxes(KernelWindow window, int ndim) {
        if (window == null || window.ndim() != ndim) {
            throw new IllegalArgumentException("window must have " + ndim + " axes, got "
                    + (window == null ? "null" : window.ndim()));
        }
    }

    MemorySegment lowerBounds() {
        return lower;
    }

    MemorySegment upperBounds() {
        return upper;
    }

    private static int checkAxis(int axis) {
        if (axis < 0 || axis > 2) {
            throw new IndexOutOfBoundsException("axis " + axis + " is not 0, 1 or 2");
        }
        return axis;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("KernelWindow");
        for (int d = 0; d < ndim; d++) {
            b.append(" [").append(lo(d)).append(", ").append(hi(d)).append(')');
        }
        return b.toString();
    }
}
