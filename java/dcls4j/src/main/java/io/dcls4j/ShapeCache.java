package io.dcls4j;

import io.dcls4j.internal.MemoryBudget;
import io.dcls4j.internal.ShapeKey;
import io.dcls4j.ops.ConvConfig;
import io.dcls4j.ops.Convolution;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * A {@link DclsConv}'s convolution plans and result tensors per input shape, for its most recently used shapes:
 * a layer fed a few shapes in turn (training and evaluation batches, a last smaller batch) keeps a plan for each
 * instead of planning again, and the least recently used beyond the capacity is freed, so memory stays bounded.
 * Its results are then marked freed, so that reading one says why. Also remembers the entry of the last forward,
 * which backward reads.
 */
final class ShapeCache {
    private final LayerBackend backend;
    private final Device device;
    /** The layer, named in messages (its toString, as it is when a message is made). */
    private final Object layer;
    /** The layer's checked configuration for an input shape; throws for a shape the layer cannot take. */
    private final Function<long[], ConvConfig> configFor;
    private final int capacity;
    private final Map<ShapeKey, Entry> entries = new LinkedHashMap<>(16, 0.75f, true); // access order: eldest first
    private Entry current;

    ShapeCache(LayerBackend backend, Device device, Object layer, Function<long[], ConvConfig> configFor,
               int capacity) {
        this.backend = backend;
        this.device = device;
        this.layer = layer;
        this.configFor = configFor;
        this.capacity = capacity;
    }

    /** The entry of the last successful forward, or null (none yet, or since evicted or closed). */
    Entry current() {
        return current;
    }

    /** Records {@code entry} as the last forward's. */
    void setCurrent(Entry entry) {
        current = entry;
    }

    /**
     * The entry for {@code x}'s shape: the current one (checked first, without allocating), a cached one, or a new
     * one, planned after the shape and the memory budget are checked, evicting the least recently used if full.
     */
    Entry entryFor(Tensor x) {
        Entry c = current;
        if (c != null && x.hasShape(c.key.shape())) {
            return c;
        }
        ShapeKey key = new ShapeKey(x.shape());
        Entry entry = entries.get(key);
        if (entry == null) {
            ConvConfig config = configFor.apply(key.shape()); // validates before any native call
            MemoryBudget.require("the plan and results of " + layer + " for input shape "
                            + Arrays.toString(key.shape()),
                    MemoryBudget.convolutionBytes(config));
            if (entries.size() >= capacity) {
                var eldest = entries.entrySet().iterator().next();
                eldest.getValue().close("evicted: the layer keeps the plans and results of its " + capacity
                        + " most recently used input shapes, and a new shape came; copy results you need longer");
                entries.remove(eldest.getKey());
            }
            entry = new Entry(key, config);
            entries.put(key, entry);
        }
        return entry;
    }

    /** Frees every entry; reading one of their results then says {@code why}. */
    void close(String why) {
        for (Entry e : entries.values()) {
            e.close(why);
        }
        entries.clear();
        current = null;
    }

    /** The plan and buffers of one input shape. */
    final class Entry implements AutoCloseable {
        private final ShapeKey key;
        final Convolution plan;
        final Tensor y;
        final Tensor gradX;
        /** The layer's kernel version this plan was last told the kernel's cells (or window) of; -1: none yet. */
        long hintedKernelVersion = -1;
        private final Arena buffers = Arena.ofShared();

        private Entry(ShapeKey key, ConvConfig config) {
            this.key = key;
            this.plan = backend.plan(config);
            try {
                this.y = Tensor.allocate(buffers, device, plan.outputShape());
                this.gradX = Tensor.allocate(buffers, device, key.shape());
            } catch (RuntimeException e) { // out of device memory: give back what this shape took
                plan.close();
                buffers.close();
                throw e;
            }
        }

        /** Frees the plan and the results; reading a result then says {@code why}. */
        void close(String why) {
            String note = "a result of " + layer + " for input shape " + Arrays.toString(key.shape()) + ", " + why;
            y.freedBecause(note);
            gradX.freedBecause(note);
            close();
        }

        @Override
        public void close() {
            if (current == this) {
                current = null;
            }
            plan.close();
            buffers.close();
        }
    }
}
