package io.dcls4j.internal;

import io.dcls4j.DclsConv;
import io.dcls4j.Tensor;
import io.dcls4j.ops.Convolution;
import io.dcls4j.ops.KernelConstruction;

/**
 * Internal (this package is not exported): how a model in {@code io.dcls4j.nn} has its CUDA {@link DclsConv} layers
 * tell their convolution plans the kernel cells from host copies of their positions (and sigma), made once per model
 * forward, instead of each layer's plan copying them from the device and waiting for the stream (one wait per layer).
 * The layers ({@code io.dcls4j}), the plans ({@code io.dcls4j.ops}) and the models live in three packages; this class
 * lets them meet without public API. {@link Layers} is registered by {@link DclsConv}'s static initialiser and
 * {@link Plans} by {@link Convolution}'s, so both are set once a model holds a layer that has made a plan.
 */
public final class HostPositions {
    /** The layers' side: each DCLS layer's host mirror of its positions and sigma. */
    public interface Layers {
        /**
         * Enqueues, on the layer's stream, copies of {@code positions} (the device tensor the layer's next kernel
         * will be built from: its own positions, or the tensor a tied stage copies into them first) and of the
         * layer's sigma into its host mirror, and marks the mirror not yet usable. False, having done nothing, where
         * the layer keeps no mirror: not on a CUDA device, in inference mode, or a kind whose plans take a kernel
         * window instead of cells (the reshaped kinds); such a layer stays on the device path.
         */
        boolean enqueueRefresh(DclsConv layer, Tensor positions);

        /**
         * Marks the mirror fresh, once the copies of {@link #enqueueRefresh} are complete: the layer's next kernel
         * hint reads it (once) instead of the device.
         */
        void markFresh(DclsConv layer);

        /** Marks the mirror stale: the layer's hints read the device again until the next refresh. */
        void markStale(DclsConv layer);

        /** How many kernel hints of the layer read its host mirror (for tests). */
        long hostHints(DclsConv layer);
    }

    /** The plans' side: {@link Convolution#setKernelCells} with the positions and sigma in host memory. */
    public interface Plans {
        /**
         * As {@link Convolution#setKernelCells}, with {@code hostPositions} and {@code hostSigma} host tensors of the
         * construction's position shape; false, having done nothing, where the plan has no host entry.
         */
        boolean setKernelCellsFromHost(Convolution plan, KernelConstruction construction, Tensor hostPositions,
                                       Tensor hostSigma, boolean gradient);
    }

    private static volatile Layers layers;
    private static volatile Plans plans;
    /** Whether models refresh their layers' mirrors; tests turn it off to compare with the device path. */
    private static volatile boolean enabled = true;

    private HostPositions() {
    }

    public static void register(Layers access) {
        layers = access;
    }

    public static void register(Plans access) {
        plans = access;
    }

    public static Layers layers() {
        return layers;
    }

    public static Plans plans() {
        return plans;
    }

    public static boolean enabled() {
        return enabled;
    }

    /** For tests: off, models leave every layer on the device path (one wait per layer), as before. */
    public static void setEnabled(boolean on) {
        enabled = on;
    }
}
