package io.dcls4j.internal;

import io.dcls4j.ops.ConstructConfig;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A kernel construction as every {@link DeviceOps} takes it: its configuration (what the Java backend reads) and
 * the same in a C {@code dcls_construct_desc} (what the native ones pass on), made once per op.
 */
public record ConstructDesc(ConstructConfig config, MemorySegment segment) {

    /** The descriptor of {@code config}, its C struct in {@code arena}. */
    public static ConstructDesc of(Arena arena, ConstructConfig config) {
        return new ConstructDesc(config, Descriptors.construct(arena, config));
    }
}
