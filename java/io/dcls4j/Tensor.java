package io.dcls4j;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A dense float32 tensor in C order, (N, C, spatial...) for activations, over off-heap memory.
 *
 * <p>A tensor is a view: it never copies and never owns its memory. Memory allocated with
 * {@link #allocate(Arena, long...)} lives as long as the arena; {@link #wrap(MemorySegment, long...)}
 * views memory the caller already has (a buffer shared with another library, a mapped file).
 * Every native call checks that the arena is still open, so a closed arena gives an
 * {@link IllegalStateException} instead of a crash.
 */
public final class Tensor {
    /** Alignment of {@link #allocate}d memory: a cache line, and an AVX-512 vector. */
    public static final long ALIGNMENT = 64;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final MemorySegment segment;
    private final long[] shape;
    private final long elementCount;

    private Tensor(MemorySegment segment, long[] shape, long elementCount) {
        this.segment = segment;
        this.shape = shape;
        this.elementCount = elementCount;
    }

    /** Allocates a zero-filled tensor in {@code arena}, 64-byte aligned. */
    public static Tensor allocate(Arena arena, long... shape) {
        if (arena == null) {
            throw new IllegalArgumentException("arena is null");
        }
        long[] s = checkShape(shape);
        long count = elementCount(s);
        MemorySegment segment = arena.allocate(count * Float.BYTES, ALIGNMENT); // zero-filled
        return new Tensor(segment, s, count);
    }

    /**
     * Views {@code segment} as a tensor of {@code shape}, without copying. The segment must be
     * native memory, 4-byte aligned, alive, and at least {@code 4 * product(shape)} bytes long.
     */
    public static Tensor wrap(MemorySegment segment, long... shape) {
        if (segment == null) {
            throw new IllegalArgumentException("segment is null");
        }
        long[] s = checkShape(shape);
        long count = elementCount(s);
        if (!segment.isNative()) {
            throw new IllegalArgumentException("segment is on the Java heap; native code needs off-heap memory"
                    + " (allocate it with an Arena)");
        }
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException("segment's arena is already closed");
        }
        if (segment.address() % Float.BYTES != 0) {
            throw new IllegalArgumentException("segment address 0x" + Long.toHexString(segment.address())
                    + " is not aligned to 4 bytes (a float)");
        }
        long needed = count * Float.BYTES;
        if (segment.byteSize() < needed) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes is too small for shape "
                    + Arrays.toString(s) + " (" + needed + " bytes)");
        }
        return new Tensor(segment.asSlice(0, needed), s, count);
    }

    /** The memory of this tensor: exactly {@code 4 * elementCount()} bytes. */
    public MemorySegment segment() {
        return segment;
    }

    /** A copy of the shape. */
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code axis}. */
    public long dim(int axis) {
        return shape[axis];
    }

    /** Number of elements, the product of the shape. */
    public long elementCount() {
        return elementCount;
    }

    /** The same memory with another shape of the same element count. */
    public Tensor reshape(long... newShape) {
        long[] s = checkShape(newShape);
        if (elementCount(s) != elementCount) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(s));
        }
        return new Tensor(segment, s, elementCount);
    }

    /** Copies {@code values} (C order, exactly {@code elementCount()} of them) into this tensor. */
    public Tensor copyFrom(float[] values) {
        requireAlive("tensor");
        if (values.length != elementCount) {
            throw new IllegalArgumentException("got " + values.length + " values for a tensor of shape "
                    + Arrays.toString(shape) + " (" + elementCount + " elements)");
        }
        MemorySegment.copy(values, 0, segment, FLOAT, 0, values.length);
        return this;
    }

    /** Copies another tensor of the same element count into this one. */
    public Tensor copyFrom(Tensor other) {
        requireAlive("tensor");
        other.requireAlive("source tensor");
        if (other.elementCount != elementCount) {
            throw new IllegalArgumentException("cannot copy a tensor of shape " + Arrays.toString(other.shape)
                    + " into one of shape " + Arrays.toString(shape));
        }
        MemorySegment.copy(other.segment, 0, segment, 0, segment.byteSize());
        return this;
    }

    /** The elements, C order, in a new array. */
    public float[] toFloatArray() {
        requireAlive("tensor");
        if (elementCount > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor of " + elementCount + " elements does not fit in a Java array");
        }
        return segment.toArray(ValueLayout.JAVA_FLOAT);
    }

    /** Sets every element to {@code value}. */
    public Tensor fill(float value) {
        requireAlive("tensor");
        if (value == 0f) {
            segment.fill((byte) 0);
        } else {
            for (long i = 0; i < elementCount; i++) {
                segment.setAtIndex(FLOAT, i, value);
            }
        }
        return this;
    }

    /** The element at flat C-order index {@code i}. */
    public float get(long i) {
        return segment.getAtIndex(FLOAT, i);
    }

    /** Sets the element at flat C-order index {@code i}. */
    public void set(long i, float value) {
        segment.setAtIndex(FLOAT, i, value);
    }

    /** True when {@code other} has exactly this shape (no allocation). */
    public boolean hasShape(long... other) {
        return Arrays.equals(shape, other);
    }

    /** True when both tensors have the same shape (no allocation). */
    public boolean sameShape(Tensor other) {
        return Arrays.equals(shape, other.shape);
    }

    /** Throws {@link IllegalStateException} naming {@code what} if this tensor's arena is closed. */
    public void requireAlive(String what) {
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException(what + ": the arena of its memory is closed");
        }
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }

    private static long[] checkShape(long[] shape) {
        if (shape == null || shape.length == 0) {
            throw new IllegalArgumentException("a tensor needs at least one dimension");
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 1) {
                throw new IllegalArgumentException("dimension " + i + " of shape " + Arrays.toString(shape)
                        + " is " + shape[i] + "; sizes must be >= 1");
            }
        }
        return shape.clone();
    }

    private static long elementCount(long[] shape) {
        long n = 1;
        try {
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            Math.multiplyExact(n, Float.BYTES);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large");
        }
        return n;
    }
}
