package io.dcls4j;

import io.dcls4j.ffi.dcls_h;
import io.dcls4j.internal.CudaContext;
import io.dcls4j.internal.MemoryBudget;

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
 *
 * <p><b>Devices.</b> A tensor lives on a {@link Device}. {@link #allocate(Arena, Device, long...)}
 * puts it in a CUDA GPU's memory, which Java can never read directly: {@link #segment()},
 * {@link #get} and {@link #set} throw {@link IllegalStateException} for it. The bulk operations work on
 * every device by copying: {@link #copyFrom(Tensor)} in every direction (host to device, device to
 * host, device to device), {@link #to(Arena, Device)}, and {@link #copyFrom(float[])},
 * {@link #toFloatArray()} and {@link #fill} through a temporary host buffer. Device memory is freed when
 * its arena closes. {@link #allocatePinned} gives host memory that the GPU copies to and from
 * asynchronously (see {@link Device} for when to wait).
 */
public final class Tensor {
    /** Alignment of {@link #allocate}d memory: a cache line, and an AVX-512 vector. */
    public static final long ALIGNMENT = 64;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** Host memory; for a device tensor a zero-length segment: the device address and the arena's lifetime. */
    private final MemorySegment segment;
    private final long[] shape;
    private final long elementCount;
    private final Device device;
    private final boolean pinned;
    /** Why the memory was freed, when its owner said (a layer's evicted result); null otherwise. */
    private volatile String freedBecause;

    private Tensor(MemorySegment segment, long[] shape, long elementCount) {
        this(segment, shape, elementCount, Device.cpu(), false);
    }

    private Tensor(MemorySegment segment, long[] shape, long elementCount, Device device, boolean pinned) {
        this.segment = segment;
        this.shape = shape;
        this.elementCount = elementCount;
        this.device = device;
        this.pinned = pinned;
    }

    /** Allocates a zero-filled tensor in {@code arena}, 64-byte aligned. */
    public static Tensor allocate(Arena arena, long... shape) {
        if (arena == null) {
            throw new IllegalArgumentException("arena is null");
        }
        long[] s = checkShape(shape);
        long count = elementCount(s);
        requireWithinBudget(s, count);
        MemorySegment segment = arena.allocate(count * Float.BYTES, ALIGNMENT); // zero-filled
        return new Tensor(segment, s, count);
    }

    /**
     * Allocates a zero-filled tensor on {@code device}, its memory freed when {@code arena} closes. On the
     * CPU this is {@link #allocate(Arena, long...)}; on a CUDA device the memory is the GPU's (zeroed in
     * stream order, see {@link Device}) and never readable through a {@link MemorySegment}. Throws
     * {@link DclsException} when the device is not there (dcls4j built without CUDA, no driver, no GPU).
     */
    public static Tensor allocate(Arena arena, Device device, long... shape) {
        if (device == null) {
            throw new IllegalArgumentException("device is null");
        }
        if (!device.isCuda()) {
            return allocate(arena, shape);
        }
        if (arena == null) {
            throw new IllegalArgumentException("arena is null");
        }
        long[] s = checkShape(shape);
        long count = elementCount(s);
        requireWithinBudget(s, count);
        requireOpen(arena);
        return onDevice(CudaContext.of(device.index()).allocateDevice(arena, count * Float.BYTES), device, s);
    }

    /**
     * Allocates a zero-filled tensor in pinned (page-locked) host memory, from {@code cudaDevice}'s CUDA
     * context, freed when {@code arena} closes. It is an ordinary host tensor ({@link #device()} is the
     * CPU; {@link #segment()}, {@link #get}, {@link #set} work) that the GPU copies to and from
     * asynchronously and faster: after a copy into it, {@link Device#synchronize()} before reading it;
     * after a copy out of it, before changing it.
     */
    public static Tensor allocatePinned(Arena arena, Device cudaDevice, long... shape) {
        if (cudaDevice == null || !cudaDevice.isCuda()) {
            throw new IllegalArgumentException("pinned memory comes from a CUDA device's context, got "
                    + cudaDevice + "; allocate(arena, shape) gives ordinary host memory");
        }
        if (arena == null) {
            throw new IllegalArgumentException("arena is null");
        }
        long[] s = checkShape(shape);
        long count = elementCount(s);
        requireOpen(arena);
        MemorySegment memory = CudaContext.of(cudaDevice.index()).allocatePinned(arena, count * Float.BYTES);
        return new Tensor(memory, s, count, Device.cpu(), true);
    }

    /**
     * A device tensor over device memory someone else owns ({@code address}: a zero-length segment
     * whose scope is the memory's lifetime). For dcls4j's own allocations, and for tests that need a
     * device tensor without a GPU; never read through.
     */
    static Tensor onDevice(MemorySegment address, Device device, long... shape) {
        if (device == null || !device.isCuda()) {
            throw new IllegalArgumentException("not a CUDA device: " + device);
        }
        if (address.byteSize() != 0) {
            throw new IllegalArgumentException("a device address is a zero-length segment, got " + address);
        }
        long[] s = checkShape(shape);
        return new Tensor(address, s, elementCount(s), device, false);
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

    /**
     * The memory of this tensor: exactly {@code 4 * elementCount()} bytes. Host tensors only: a device
     * tensor's memory cannot be read from Java, so this throws {@link IllegalStateException} for one.
     */
    public MemorySegment segment() {
        requireHost("segment()");
        return segment;
    }

    /**
     * The memory as other native libraries take it (NCCL, MPI, cuBLAS): the host segment, or for a device tensor
     * its device address as a zero-length segment, which must never be read from Java.
     */
    public MemorySegment nativeAddress() {
        requireAlive("tensor");
        return segment;
    }

    /** Where the memory is: the CPU (pinned memory included) or a CUDA device. */
    public Device device() {
        return device;
    }

    /** Whether this is pinned host memory from {@link #allocatePinned}. */
    public boolean isPinned() {
        return pinned;
    }

    /**
     * A copy of this tensor on {@code device}, in {@code arena} (always a new tensor, even on the same
     * device).
     */
    public Tensor to(Arena arena, Device device) {
        requireAlive("tensor");
        return allocate(arena, device, shape).copyFrom(this);
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
        return new Tensor(segment, s, elementCount, device, pinned);
    }

    /** Copies {@code values} (C order, exactly {@code elementCount()} of them) into this tensor. */
    public Tensor copyFrom(float[] values) {
        requireAlive("tensor");
        if (values.length != elementCount) {
            throw new IllegalArgumentException("got " + values.length + " values for a tensor of shape "
                    + Arrays.toString(shape) + " (" + elementCount + " elements)");
        }
        if (device.isCuda()) {
            // through a temporary host buffer: pageable memory, free to go as soon as the copy returns
            try (Arena staging = Arena.ofConfined()) {
                MemorySegment host = staging.allocate(byteSize(), ALIGNMENT);
                MemorySegment.copy(values, 0, host, FLOAT, 0, values.length);
                context().memcpy(segment, host, byteSize(), dcls_h.DCLS_CUDA_MEMCPY_HOST_TO_DEVICE());
            }
            return this;
        }
        MemorySegment.copy(values, 0, segment, FLOAT, 0, values.length);
        return this;
    }

    /**
     * Copies another tensor of the same element count into this one, whatever their devices. A copy
     * into pageable host memory waits for the device; one into or out of pinned memory, or between
     * tensors of one GPU, is only enqueued (see {@link Device}); one between two GPUs waits for both.
     */
    public Tensor copyFrom(Tensor other) {
        requireAlive("tensor");
        other.requireAlive("source tensor");
        if (other.elementCount != elementCount) {
            throw new IllegalArgumentException("cannot copy a tensor of shape " + Arrays.toString(other.shape)
                    + " into one of shape " + Arrays.toString(shape));
        }
        if (device.isCuda() || other.device.isCuda()) {
            copyWithDevice(other);
            return this;
        }
        MemorySegment.copy(other.segment, 0, segment, 0, segment.byteSize());
        return this;
    }

    private void copyWithDevice(Tensor src) {
        long bytes = byteSize();
        if (device.isCuda() && src.device.isCuda()) {
            if (device.equals(src.device)) {
                context().memcpy(segment, src.segment, bytes, dcls_h.DCLS_CUDA_MEMCPY_DEVICE_TO_DEVICE());
            } else {
                // two streams: the source's pending work first, then the copy on ours, waited for so that
                // neither stream can change or free either side while it runs
                src.context().synchronize();
                context().memcpy(segment, src.segment, bytes, dcls_h.DCLS_CUDA_MEMCPY_DEFAULT());
                context().synchronize();
            }
        } else if (device.isCuda()) {
            context().memcpy(segment, src.segment, bytes, dcls_h.DCLS_CUDA_MEMCPY_HOST_TO_DEVICE());
        } else {
            CudaContext c = src.context();
            c.memcpy(segment, src.segment, bytes, dcls_h.DCLS_CUDA_MEMCPY_DEVICE_TO_HOST());
            if (!pinned) {
                c.synchronize(); // pageable memory: the caller may read it as soon as this returns
            }
        }
    }

    /** The elements, C order, in a new array. */
    public float[] toFloatArray() {
        requireAlive("tensor");
        if (elementCount > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor of " + elementCount + " elements does not fit in a Java array");
        }
        if (device.isCuda()) {
            try (Arena staging = Arena.ofConfined()) {
                MemorySegment host = staging.allocate(byteSize(), ALIGNMENT);
                CudaContext c = context();
                c.memcpy(host, segment, byteSize(), dcls_h.DCLS_CUDA_MEMCPY_DEVICE_TO_HOST());
                c.synchronize();
                return host.toArray(ValueLayout.JAVA_FLOAT);
            }
        }
        return segment.toArray(ValueLayout.JAVA_FLOAT);
    }

    /** Sets every element to {@code value} (on a CUDA device: in stream order, see {@link Device}). */
    public Tensor fill(float value) {
        requireAlive("tensor");
        if (device.isCuda()) {
            if (value == 0f) {
                context().memset(segment, 0, byteSize());
            } else {
                try (Arena staging = Arena.ofConfined()) {
                    MemorySegment host = staging.allocate(byteSize(), ALIGNMENT);
                    for (long i = 0; i < elementCount; i++) {
                        host.setAtIndex(FLOAT, i, value);
                    }
                    context().memcpy(segment, host, byteSize(), dcls_h.DCLS_CUDA_MEMCPY_HOST_TO_DEVICE());
                }
            }
            return this;
        }
        if (value == 0f) {
            segment.fill((byte) 0);
        } else {
            for (long i = 0; i < elementCount; i++) {
                segment.setAtIndex(FLOAT, i, value);
            }
        }
        return this;
    }

    /**
     * The element at flat C-order index {@code i} ({@link IllegalArgumentException} outside the tensor). Host
     * tensors only ({@link IllegalStateException} on a GPU).
     */
    public float get(long i) {
        if (device.isCuda()) {
            requireHost("get(i)");
        }
        if (i < 0 || i >= elementCount) { // checked here: the segment's own check wraps around at Long.MIN_VALUE
            throw outside(i);
        }
        try {
            return segment.getAtIndex(FLOAT, i);
        } catch (IllegalStateException e) {
            throw freed(e);
        }
    }

    /** Sets the element at flat C-order index {@code i}. Host tensors only ({@link IllegalStateException} on a GPU). */
    public void set(long i, float value) {
        if (device.isCuda()) {
            requireHost("set(i, value)");
        }
        if (i < 0 || i >= elementCount) { // checked here: the segment's own check wraps around at Long.MIN_VALUE
            throw outside(i);
        }
        try {
            segment.setAtIndex(FLOAT, i, value);
        } catch (IllegalStateException e) {
            throw freed(e);
        }
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
            String why = freedBecause;
            throw new IllegalStateException(what + ": " + (why != null ? why : "the arena of its memory is closed"));
        }
    }

    /** Records why the owner freed this tensor's memory, for the message of a later access. */
    void freedBecause(String why) {
        freedBecause = why;
    }

    private IllegalArgumentException outside(long i) {
        return new IllegalArgumentException("index " + i + " is outside tensor " + Arrays.toString(shape) + " of "
                + elementCount + " elements");
    }

    /** The access failure {@code e}, with the reason when the memory was freed (else {@code e} itself). */
    private IllegalStateException freed(IllegalStateException e) {
        if (segment.scope().isAlive()) {
            return e;
        }
        String why = freedBecause;
        return new IllegalStateException("tensor " + Arrays.toString(shape) + ": " + (why != null ? why
                : "the arena of its memory is closed"), e);
    }

    private void requireHost(String operation) {
        if (device.isCuda()) {
            throw new IllegalStateException(operation + " on a tensor on " + device + ": its memory is the GPU's"
                    + " and cannot be read or written from Java; copy it with to(arena, Device.cpu()),"
                    + " toFloatArray() or copyFrom(...)");
        }
    }

    private long byteSize() {
        return elementCount * Float.BYTES;
    }

    private CudaContext context() {
        return CudaContext.of(device.index());
    }

    private static void requireOpen(Arena arena) {
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException("arena is already closed");
        }
    }

    @Override
    public String toString() {
        String base = "Tensor" + Arrays.toString(shape);
        return device.isCuda() ? base + " on " + device : pinned ? base + " (pinned)" : base;
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

    /** Fails at once, with the size, for a tensor over the memory limit ({@link MemoryBudget}). */
    private static void requireWithinBudget(long[] shape, long count) {
        long bytes = count * Float.BYTES; // elementCount checked that this does not overflow
        if (bytes > MemoryBudget.limit()) {
            MemoryBudget.require("a tensor of shape " + Arrays.toString(shape), bytes);
        }
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
