package io.dcls4j.nn;

import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;
import java.util.function.ToIntFunction;

/**
 * One native plan of dcls_nn.h or dcls_cuda_nn.h, the function that destroys it, and how its library's statuses
 * are checked. Made by {@link NnOps}; closing it destroys the plan under {@code lock} (a CUDA plan's context).
 */
final class NativePlan implements AutoCloseable {
    private final ToIntFunction<MemorySegment> destroy;
    private final IntConsumer check;
    private final Object lock;
    private MemorySegment plan;

    NativePlan(MemorySegment plan, ToIntFunction<MemorySegment> destroy, IntConsumer check, Object lock) {
        this.plan = plan;
        this.destroy = destroy;
        this.check = check;
        this.lock = lock == null ? this : lock;
    }

    /** A plan of dcls_nn.h (the CPU), made by {@code create}. */
    static NativePlan cpu(ToIntFunction<MemorySegment> create, ToIntFunction<MemorySegment> destroy) {
        return new NativePlan(NnNative.create(create, NnNative::check), destroy, NnNative::check, null);
    }

    /** The plan's address; {@link IllegalStateException} once closed. */
    MemorySegment get() {
        MemorySegment p = plan;
        if (p == null) {
            throw new IllegalStateException("native plan is closed");
        }
        return p;
    }

    @Override
    public void close() {
        MemorySegment p = plan;
        if (p != null) {
            plan = null;
            synchronized (lock) {
                check.accept(destroy.applyAsInt(p));
            }
        }
    }
}
