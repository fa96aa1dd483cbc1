package io.dcls4j;

import io.dcls4j.ops.KernelWindow;
import io.dcls4j.ops.Positions;
import io.dcls4j.ops.ConstructConfig;

import java.lang.foreign.Arena;

/**
 * What a {@link DclsConv} needs for inference mode: a construction with the learned-width triangle, a copy of the
 * positions (rounded to integers if asked) and a sigma of zeros, from which it builds the kernel once for every
 * later forward. Its own tensors, so that the layer's parameters are never changed; made at the first
 * {@code inferenceMode} call and kept, in the layer's arena, until the layer closes.
 */
final class InferenceKernel {
    private final LayerBackend.Construction construction;
    private final Tensor positions;
    private final Tensor sigma; // zeros, never written
    private final Positions positionOps;
    private boolean roundsPositions;

    InferenceKernel(LayerBackend backend, KernelLayout layout, int outChannels, int inPerGroup, int kernelCount,
                    Arena arena, Device device, Positions positionOps) {
        this.positionOps = positionOps;
        ConstructConfig config = layout.constructConfig(Interpolation.TRIANGLE_LEARNED_WIDTH, outChannels,
                inPerGroup, kernelCount);
        construction = layout.adapt(backend.construction(config), config);
        long[] positionShape = layout.positionShape(outChannels, inPerGroup, kernelCount);
        positions = Tensor.allocate(arena, device, positionShape);
        sigma = Tensor.allocate(arena, device, positionShape);
    }

    /** Whether the next {@link #build} rounds the positions (half to even, as {@code torch.round}). */
    void roundPositions(boolean round) {
        this.roundsPositions = round;
    }

    boolean roundsPositions() {
        return roundsPositions;
    }

    /** The construction the inference kernel is made with (its cells: one per element with rounded positions). */
    LayerBackend.Construction construction() {
        return construction;
    }

    /** The positions of the last {@link #build}, rounded if asked. */
    Tensor positions() {
        return positions;
    }

    /** Zeros: the learned-width triangle of width 0 puts each element on its cells only. */
    Tensor sigma() {
        return sigma;
    }

    /** Builds {@code kernel} and narrows {@code window} from the weight and positions, rounded if asked, on their device. */
    void build(Tensor weight, Tensor layerPositions, Tensor kernel, KernelWindow window) {
        if (roundsPositions) {
            positionOps.round(layerPositions, positions);
        } else {
            positions.copyFrom(layerPositions);
        }
        construction.forward(weight, positions, sigma, kernel);
        construction.window(positions, sigma, window);
    }
}
