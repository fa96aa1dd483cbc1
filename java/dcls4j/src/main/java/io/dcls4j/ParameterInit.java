package io.dcls4j;

import io.dcls4j.ops.Positions;

import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The reference's initialisation of a DCLS layer's parameters: Kaiming-uniform weights (a = sqrt 5, so a bound of
 * 1/sqrt(fan_in), fan_in being weight.size(1) times the trailing sizes, as PyTorch's), bias uniform in
 * +-1/sqrt(fan_in), positions N(0, 0.5) (uniform in +-dilatedKernelSize/2 for Dcls2_1d and Dcls3_1d) clamped to
 * +-dilatedKernelSize/2, sigma 0.23 (Gaussian) or 0 (learned width). The values are drawn on the host from one
 * random stream in a fixed order (weight, bias, positions), so a seed gives the same layer on every device.
 * The clamp is the layers' {@code clampPositions}: {@link Positions#clamp}.
 */
final class ParameterInit {
    private final int[] dilatedKernelSize;
    private final boolean uniformPositions;
    private final Interpolation interpolation;

    /** {@code uniformPositions}: draw positions uniformly in +-dilatedKernelSize[0]/2 instead of N(0, 0.5). */
    ParameterInit(int[] dilatedKernelSize, boolean uniformPositions, Interpolation interpolation) {
        this.dilatedKernelSize = dilatedKernelSize;
        this.uniformPositions = uniformPositions;
        this.interpolation = interpolation;
    }

    /**
     * Initialises the parameters in place; on a GPU the values are drawn into host tensors and copied over.
     * {@code bias} null: the layer has none; {@code positions} and {@code sigma} null: they are shared with
     * another layer and left as they are (sigma is null also when the interpolation has none).
     */
    void initialise(SplittableRandom random, Device device, Parameter weight, Parameter bias, Parameter positions,
                    Parameter sigma) {
        if (!device.isCuda()) {
            fill(random, weight.value(), bias == null ? null : bias.value(),
                    positions == null ? null : positions.value(), sigma == null ? null : sigma.value());
            return;
        }
        try (Arena host = Arena.ofConfined()) {
            Map<Parameter, Tensor> staged = new LinkedHashMap<>();
            for (Parameter p : new Parameter[] {weight, positions, sigma, bias}) {
                if (p != null) {
                    staged.put(p, Tensor.allocate(host, p.value().shape()));
                }
            }
            fill(random, staged.get(weight), staged.get(bias), staged.get(positions), staged.get(sigma));
            staged.forEach((p, t) -> p.value().copyFrom(t));
            device.synchronize(); // the host staging memory is freed when this block ends
        }
    }

    /** Fills host tensors; {@code b} null: no bias; {@code p} null leaves the positions (and sigma) alone. */
    private void fill(SplittableRandom random, Tensor w, Tensor b, Tensor p, Tensor s) {
        double fanIn = (double) w.elementCount() / w.shape()[0]; // kaiming: all but the first axis
        double bound = 1.0 / Math.sqrt(fanIn);
        for (long i = 0; i < w.elementCount(); i++) {
            w.set(i, (float) random.nextDouble(-bound, bound));
        }
        if (b != null) {
            for (long i = 0; i < b.elementCount(); i++) {
                b.set(i, (float) random.nextDouble(-bound, bound));
            }
        }
        if (p == null) {
            return; // the owner's positions and sigma are used as they are
        }
        double lim = dilatedKernelSize[0] / 2;
        for (long i = 0; i < p.elementCount(); i++) {
            // Dcls2_1d, Dcls3_1d: uniform in +-L/2, as the reference (lim 0 leaves 0)
            p.set(i, (float) (uniformPositions ? (lim > 0 ? random.nextDouble(-lim, lim) : 0.0)
                    : 0.5 * random.nextGaussian()));
        }
        new Positions(dilatedKernelSize, p.shape()).clamp(p);
        if (s != null) {
            s.fill(initialSigma());
        }
    }

    /** Sigma's initial value: 0.23 for the Gaussian, 0 for the learned-width triangle. */
    private float initialSigma() {
        return interpolation == Interpolation.GAUSSIAN ? 0.23f : 0f;
    }
}
