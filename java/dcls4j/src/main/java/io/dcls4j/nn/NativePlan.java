package io.dcls4j.nn;

import java.lang.foreign.MemorySegment;
import java.util.function.ToIntFunction;

/** One native plan of dcls_nn.h and the function that destroys it. */
final class NativePlan implements AutoCloseable {
    private final ToIntFunction<MemorySegment> destroy;
    private MemorySegment plan;

    NativePlan(ToIntFunction<MemorySegment> create, ToIntFunction<MemorySegment> destroy) {
        this.plan = NnNative.create(create);
        this.destroy = destroy;
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
            NnNative.check(destroy.applyAsInt(p));
        }
    }
}
