package io.dcls4j.nn;

import io.dcls4j.DclsConv;
import io.dcls4j.Device;
import io.dcls4j.Parameter;
import io.dcls4j.internal.CudaContext;
import io.dcls4j.internal.HostPositions;

import java.util.List;

/**
 * The host mirrors of a model's DCLS layers' positions and sigma (see {@link HostPositions}): on a CUDA device, the
 * model's forward refreshes them all at its start with one wait for the stream, so that each layer's kernel hint in
 * that forward lists its cells on the host without a wait of its own (else one per layer: the GPU idles while the
 * CPU lists cells and launches the next kernels).
 *
 * <p>Why a mirror refreshed by {@link #begin} holds, at each layer's hint, exactly the values its kernel is built
 * from: the copies are enqueued on the stream after all the work enqueued before the forward (the last step's
 * backward, optimizer and clamp, a checkpoint load, a user's copy), and waited for before the mirrors are marked
 * fresh. Between {@link #begin} and {@link #end} only the model's forward runs on the calling thread (models and
 * layers are not thread-safe, and every other writer of positions or sigma is a call of its own). The forward
 * writes no sigma, and no positions but a tied stage's copies of its shared P into its blocks' P
 * ({@link TiedStage#forward}): those layers are therefore mirrored from the shared P, the tensor their P is a copy
 * of by the time their kernel is built. A mirror serves one hint and {@link #end} marks them all stale, so a layer
 * used again on its own, or in a second forward, reads the device (the waiting path) unless refreshed again.
 * Layers off CUDA, in inference mode (whose kernel comes from its own, possibly rounded, positions) or of a reshaped
 * kind (kernel windows) keep no mirror and stay on the device path. Allocates nothing per forward.
 */
final class PositionMirrors {
    private final Device device;
    private final DclsConv[] layers;
    /** The P each layer's kernel is built from in the forward: its own, or its tied stage's shared one. */
    private final Parameter[] sources;
    private final boolean[] refreshed;

    PositionMirrors(Device device, List<DclsConv> layers, List<Parameter> sources) {
        if (layers.size() != sources.size()) {
            throw new IllegalArgumentException(layers.size() + " layers, " + sources.size() + " position sources");
        }
        this.device = device;
        this.layers = layers.toArray(new DclsConv[0]);
        this.sources = sources.toArray(new Parameter[0]);
        this.refreshed = new boolean[this.layers.length];
    }

    /** The layers, in the model's order (for tests). */
    List<DclsConv> layers() {
        return List.of(layers);
    }

    /** Refreshes the mirrors (CUDA only): every copy enqueued, then one wait for the stream. */
    void begin() {
        if (!device.isCuda() || layers.length == 0 || !HostPositions.enabled()) {
            return;
        }
        HostPositions.Layers access = HostPositions.layers();
        boolean any = false;
        for (int i = 0; i < layers.length; i++) {
            refreshed[i] = access.enqueueRefresh(layers[i], sources[i].value());
            any |= refreshed[i];
        }
        if (!any) {
            return;
        }
        CudaContext.of(device.index()).synchronize();
        for (int i = 0; i < layers.length; i++) {
            if (refreshed[i]) {
                access.markFresh(layers[i]);
            }
        }
    }

    /** Marks every mirror stale: call it when the forward ends, however it ends. */
    void end() {
        HostPositions.Layers access = HostPositions.layers();
        for (int i = 0; i < layers.length; i++) {
            if (refreshed[i]) {
                access.markStale(layers[i]);
                refreshed[i] = false;
            }
        }
    }
}
