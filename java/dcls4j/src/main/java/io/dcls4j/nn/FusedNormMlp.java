package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * pwconv2(gelu(pwconv1(norm(x)))) on CUDA with the LayerNorm and the GELU fused into the two GEMMs around them, as
 * ConvNeXt's norm and pointwise layers: the LayerNorm's forward computes only its statistics (mean and rstd per
 * column), pwconv1's GEMM normalises x as it loads it and writes both its output z and gelu(z), and its
 * weight-gradient GEMM normalises x again on load; pwconv2's backward-data GEMM multiplies by gelu'(z). So the
 * LayerNorm's output is never stored, no activation kernel runs and the gradient at gelu(z) is never stored. The
 * LayerNorm's backward runs as it does alone (it needs x and the statistics only). It computes what the unfused
 * {@code LayerNorm -> Linear -> Gelu -> Linear} computes (the same formulas), and holds the three layers only for
 * their parameters: names "norm.weight", "pwconv1.weight", ... as the unfused children have them, so a state dict
 * does not see the fusion. Owns the three layers. Package-private: an implementation detail of
 * {@link ConvNeXtBlock}.
 */
final class FusedNormMlp extends Layer<FusedNormMlp.MlpState> {
    private final LayerNorm norm;
    private final Linear pwconv1;
    private final Linear pwconv2;
    /** The three layers, in order: what zeroGrad, train, eval and close go through. */
    private final List<Module> parts;
    private final CudaNnOps cuda;
    private final Map<String, Parameter> parameters;

    /**
     * {@code norm} (C), {@code pwconv1} (C to hidden) and {@code pwconv2} (hidden to C), all on {@code device}, a
     * CUDA device.
     */
    FusedNormMlp(LayerNorm norm, Linear pwconv1, Linear pwconv2, Device device) {
        super(requireCuda(device));
        if (!norm.device().equals(device) || !pwconv1.device().equals(device) || !pwconv2.device().equals(device)) {
            throw new IllegalArgumentException("FusedNormMlp: the layers are on " + norm.device() + ", "
                    + pwconv1.device() + " and " + pwconv2.device() + ", expected " + device);
        }
        long[] w1 = pwconv1.weight().value().shape();
        long[] w2 = pwconv2.weight().value().shape();
        if (w2[1] != w1[0] || w2[0] != w1[1]) {
            throw new IllegalArgumentException("FusedNormMlp: " + pwconv1 + " and " + pwconv2
                    + " do not make a C -> hidden -> C pair");
        }
        if (norm.weight().value().shape()[0] != w1[1]) {
            throw new IllegalArgumentException("FusedNormMlp: " + norm + " does not normalise " + pwconv1
                    + "'s input channels");
        }
        this.cuda = (CudaNnOps) ops();
        this.norm = norm;
        this.pwconv1 = pwconv1;
        this.pwconv2 = pwconv2;
        this.parts = List.of(norm, pwconv1, pwconv2);
        this.parameters = Collections.unmodifiableMap(Sequential.collect(List.of("norm", "pwconv1", "pwconv2"), parts));
    }

    /** Checked before the layer makes its ops: its kernels exist on CUDA only. */
    private static Device requireCuda(Device device) {
        if (device == null || !device.isCuda()) {
            throw new IllegalArgumentException("FusedNormMlp: runs on a CUDA device, got " + device);
        }
        return device;
    }

    private long channels() {
        return pwconv1.weight().value().shape()[1];
    }

    private long hidden() {
        return pwconv1.weight().value().shape()[0];
    }

    @Override
    MlpState newState(long[] shape) {
        requireChannels(shape, channels(), 2);
        return new MlpState(shape);
    }

    @Override
    public Tensor forward(Tensor x) {
        MlpState s = forwardState(x);
        cuda.layerNormStatistics(s.normPlan, x);
        cuda.linearForwardNormGelu(s.plan1, s.normPlan, x, norm.weight().value(), norm.bias().value(),
                pwconv1.weight().value(), valueOrNull(pwconv1.bias()), s.z, s.h);
        cuda.linearForward(s.plan2, s.h, pwconv2.weight().value(), valueOrNull(pwconv2.bias()), s.y);
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        MlpState s = backwardState(gradY);
        cuda.linearBackwardWeights(s.plan2, s.h, gradY, pwconv2.weight().grad(), gradOrNull(pwconv2.bias()), true);
        cuda.linearBackwardDataGelu(s.plan2, gradY, pwconv2.weight().value(), s.z, s.gradZ);
        cuda.linearBackwardWeightsNorm(s.plan1, s.normPlan, lastInput(), norm.weight().value(), norm.bias().value(),
                s.gradZ, pwconv1.weight().grad(), gradOrNull(pwconv1.bias()), true);
        cuda.linearBackwardData(s.plan1, s.gradZ, pwconv1.weight().value(), s.gradNormed);
        cuda.layerNormBackward(s.normPlan, s.gradNormed, norm.weight().value(), s.gradX, norm.weight().grad(),
                norm.bias().grad(), true);
        return s.gradX;
    }

    private static Tensor valueOrNull(Parameter p) {
        return p == null ? null : p.value();
    }

    private static Tensor gradOrNull(Parameter p) {
        return p == null ? null : p.grad();
    }

    @Override
    public Map<String, Parameter> namedParameters() {
        ensureOpen();
        return parameters;
    }

    @Override
    public void zeroGrad() {
        ensureOpen();
        parts.forEach(Module::zeroGrad);
    }

    @Override
    public Module train() {
        super.train();
        parts.forEach(Module::train);
        return this;
    }

    @Override
    public Module eval() {
        super.eval();
        parts.forEach(Module::eval);
        return this;
    }

    @Override
    public void close() {
        parts.forEach(Module::close);
        super.close();
    }

    @Override
    public String toString() {
        return "FusedNormMlp(" + norm + ", " + pwconv1 + ", GELU, " + pwconv2 + ")";
    }

    /**
     * Per input shape: the LayerNorm's plan (its statistics), the two layers' plans, z and gelu(z) (hidden
     * channels), the gradient at z, and the gradient at the LayerNorm's output (C channels).
     */
    final class MlpState extends Layer.State {
        final NativePlan normPlan;
        final NativePlan plan1;
        final NativePlan plan2;
        final Tensor z;
        final Tensor h;
        final Tensor gradZ;
        final Tensor gradNormed;

        MlpState(long[] shape) {
            super(device(), shape, shape);
            long[] hiddenShape = shape.clone();
            hiddenShape[1] = hidden();
            long inner = inner(shape);
            normPlan = own(ops().layerNorm(shape[0], channels(), inner, norm.eps()));
            plan1 = own(ops().linear(shape[0], channels(), hidden(), inner));
            plan2 = own(ops().linear(shape[0], hidden(), channels(), inner));
            z = scratch(hiddenShape);
            h = scratch(hiddenShape);
            gradZ = scratch(hiddenShape);
            gradNormed = scratch(shape);
        }
    }
}
