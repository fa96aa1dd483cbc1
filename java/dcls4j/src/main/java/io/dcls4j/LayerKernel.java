package io.dcls4j;

import io.dcls4j.ops.Convolution;
import io.dcls4j.ops.KernelWindow;
import io.dcls4j.ops.Positions;

import java.lang.foreign.Arena;

/**
 * A {@link DclsConv}'s dense kernel and its gradient: built from the parameters on every training forward, or once
 * for inference mode (from an {@link InferenceKernel}); and what each plan is told of the kernel's cells, once per
 * kernel built. Not thread-safe: the layer's use guard covers it.
 */
final class LayerKernel {
    private final DclsConvConfig config;
    private final LayerBackend backend;
    private final Arena arena;
    private final Positions positionOps;
    private final LayerBackend.Construction construction;
    private final Tensor kernel;
    private final Tensor gradKernel;
    /** The box of kernel cells the current kernel's elements touch: the convolution skips the rest. */
    private final KernelWindow window;
    /** Counts the kernels built, so that a plan is told a kernel's cells once (see {@link #hint}). */
    private long version;
    private boolean inference;
    /** Inference mode's construction and kernel inputs, made by the first {@link #enterInference} call. */
    private InferenceKernel inferenceKernel;
    /**
     * On a CUDA device, host copies of the positions and sigma that a model refreshes at the start of its forward
     * ({@link #enqueueMirrorRefresh}), so that the hint of the kernel built in that forward lists the cells from
     * them without waiting for the stream; pinned, allocated at the first refresh. Null until then.
     */
    private Tensor hostPositions;
    private Tensor hostSigma;
    /** Whether the mirror holds the values the next kernel is built from: set by the model, spent by one hint. */
    private boolean mirrorFresh;
    /** The hints that read the mirror (for tests). */
    private long hostHints;

    LayerKernel(DclsConvConfig config, LayerBackend backend, Arena arena, Positions positionOps) {
        this.config = config;
        this.backend = backend;
        this.arena = arena;
        this.positionOps = positionOps;
        KernelLayout layout = config.layout();
        var constructConfig = config.constructConfig(config.interpolation());
        construction = layout.adapt(backend.construction(constructConfig), constructConfig);
        kernel = Tensor.allocate(arena, config.device(), config.kernelShape());
        gradKernel = Tensor.allocate(arena, config.device(), config.kernelShape());
        window = new KernelWindow(layout.convKernelSize());
    }

    Tensor kernel() {
        return kernel;
    }

    /**
     * Builds the kernel: from the parameters in training, or the inference kernel again from the current weight and
     * positions in inference mode.
     */
    void build(Tensor weight, Tensor positions, Tensor sigma) {
        if (inference) {
            inferenceKernel.build(weight, positions, kernel, window);
        } else {
            construction.forward(weight, positions, sigma, kernel);
        }
        version++;
    }

    /** Enters inference mode and builds its kernel now (rounding the positions if asked). */
    void enterInference(boolean roundPositions, Tensor weight, Tensor positions) {
        if (inferenceKernel == null) {
            inferenceKernel = new InferenceKernel(backend, config.layout(), config.outChannels(), config.inPerGroup(),
                    config.kernelCount(), arena, config.device(), positionOps);
        }
        inferenceKernel.roundPositions(roundPositions);
        inference = true;
        build(weight, positions, null);
    }

    void leaveInference() {
        inference = false;
    }

    boolean inInference() {
        return inference;
    }

    boolean roundsPositions() {
        return inferenceKernel != null && inferenceKernel.roundsPositions();
    }

    /**
     * Tells {@code entry}'s plan, once per kernel built, which kernel cells the current kernel can make non-zero
     * (and, training, whose gradient the construction's backward reads), so that it convolves with those cells only
     * where that pays: the tap-sparse engine, whose cost follows the taps, not the kernel size. A kernel layout
     * without it (the reshaped kinds) gets the box of those cells instead, a kernel window. On a CUDA device the cells
     * and the box are worked out on the host, so this waits for the device's stream once per kernel built (each
     * training step): the price of choosing the engine from the actual positions; unmeasured on hardware so far.
     * Unless a model refreshed this layer's host mirror for the current forward ({@link #enqueueMirrorRefresh},
     * io.dcls4j.nn.PositionMirrors, with one wait for all its layers): the cells are then listed from the mirror,
     * with no wait. A mirror serves one hint; inference mode and the reshaped kinds' windows take the device path.
     */
    void hint(ShapeCache.Entry entry, Tensor positions, Tensor sigma) {
        boolean fromMirror = mirrorFresh && !inference;
        mirrorFresh = false;   // one hint per refresh: a second forward reads the device again
        if (entry.hintedKernelVersion == version) {
            return;
        }
        Convolution plan = entry.plan;
        boolean cells;
        if (inference) {
            cells = LayerBackend.setKernelCells(plan, inferenceKernel.construction(), inferenceKernel.positions(),
                    inferenceKernel.sigma(), false);
        } else if (fromMirror
                && LayerBackend.setKernelCellsFromHost(plan, construction, hostPositions, hostSigma, true)) {
            cells = true;
            hostHints++;
        } else {
            cells = LayerBackend.setKernelCells(plan, construction, positions, sigma, true);
        }
        if (!cells) {
            if (!inference) {   // the inference kernel's window was set when it was built
                construction.window(positions, sigma, window);
            }
            plan.setKernelWindow(window);
        }
        entry.hintedKernelVersion = version;
    }

    /**
     * Enqueues copies of {@code positions} (the device tensor the next kernel will be built from) and {@code sigma}
     * into the host mirror, and marks it stale until {@link #markMirrorFresh}; see
     * {@link io.dcls4j.internal.HostPositions.Layers#enqueueRefresh}. False, having done nothing, off CUDA, in
     * inference mode (whose kernel and cells come from its own, possibly rounded, positions: the device path) and
     * for the reshaped kinds (their window stays on the device path).
     */
    boolean enqueueMirrorRefresh(Tensor positions, Tensor sigma) {
        mirrorFresh = false;
        if (inference || !config.device().isCuda() || !LayerBackend.takesCells(construction)) {
            return false;
        }
        if (hostPositions == null) {
            hostPositions = Tensor.allocatePinned(arena, config.device(), config.positionShape());
            hostSigma = sigma == null ? null : Tensor.allocatePinned(arena, config.device(), config.positionShape());
        }
        hostPositions.copyFrom(positions);   // pinned: enqueued on the stream, not waited for
        if (sigma != null) {
            hostSigma.copyFrom(sigma);
        }
        return true;
    }

    void markMirrorFresh() {
        mirrorFresh = hostPositions != null;
    }

    void markMirrorStale() {
        mirrorFresh = false;
    }

    long hostHints() {
        return hostHints;
    }

    /**
     * Back-propagates {@code gradY}: the kernel, bias and input gradients from {@code entry}'s plan (into
     * {@code entry.gradX}), then the construction's gradients; parameter gradients are accumulated, a null one is
     * skipped.
     */
    void backward(ShapeCache.Entry entry, Tensor x, Tensor gradY, Tensor gradBias, Tensor weight, Tensor positions,
                  Tensor sigma, Tensor gradWeight, Tensor gradPositions, Tensor gradSigma) {
        gradKernel.fill(0f);
        entry.plan.backward(x, gradY, kernel, gradKernel, gradBias, true, entry.gradX);
        construction.backward(weight, positions, sigma, gradKernel, gradWeight, gradPositions, gradSigma, true);
    }
}
