package io.dcls4j.nn;

import io.dcls4j.DclsException;
import io.dcls4j.ffi.dcls_h;
import io.dcls4j.ffi.dcls_nn_h;
import io.dcls4j.internal.Native;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.IntConsumer;
import java.util.function.ToIntFunction;

/** The gate to the generated dcls_nn.h bindings: loads the library and turns a failing status into a {@link DclsException}. */
final class NnNative {
    static {
        Native.ensureLoaded();
    }

    private NnNative() {}

    /** Throws a {@link DclsException} with the native message unless {@code status} is DCLS_OK. */
    static void check(int status) {
        if (status != dcls_h.DCLS_OK()) {
            throw new DclsException(status, Native.cString(dcls_nn_h.dcls_nn_last_error()));
        }
    }

    /** Runs a {@code *_plan_create(..., plan **)} call and returns the plan it made, statuses checked by {@code check}. */
    static MemorySegment create(ToIntFunction<MemorySegment> create, IntConsumer check) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            check.accept(create.applyAsInt(out));
            return out.get(ValueLayout.ADDRESS, 0);
        }
    }
}
