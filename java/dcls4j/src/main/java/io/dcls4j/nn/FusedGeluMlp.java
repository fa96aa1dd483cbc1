package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * pwconv2(gelu(pwconv1(x))) on CUDA with the GELU fused into the two GEMMs around it, as ConvNeXt's pointwise
 * layers: pwconv1's GEMM writes both its output z and gelu(z), and pwconv2's backward-data GEMM multiplies by
 * gelu'(z), so that no activation kernel runs and the gradient at gelu(z) is never stored. It computes what the
 * unfused {@code Linear -> Gelu -> Linear} computes (the same GELU formula), and holds the two {@link Linear}
 * layers only for their parameters: names "pwconv1.weight", ... as the unfused children have them, so a state dict
 * does not see the fusion. Owns the two layers. Package-private: an implementation detail of {@link ConvNeXtBlock}.
 */
final class FusedGeluMlp extends Layer<FusedGeluMlp.MlpState> {
    private final Linear pwconv1;
    private final Linear pwconv2;
    private final CudaNnOps cuda;
    private final Map<String, Parameter> parameters;

    /** {@code pwconv1} (C to hidden) and {@code pwconv2} (hidden to C), both on {@code device}, a CUDA device. */
    FusedGeluMlp(Linear pwconv1, Linear pwconv2, Device device) {
        super(requireCuda(device));
        if (!pwconv1.device().equals(device) || !pwconv2.device().equals(device)) {
            throw new IllegalArgumentException("FusedGeluMlp: the layers are on " + pwconv1.device() + " and "
                    + pwconv2.device() + ", expected " + device);
        }
        long[] w1 = pwconv1.weight().value().shape();
        long[] w2 = pwconv2.weight().value().shape();
        if (w2[1] != w1[0] || w2[0] != w1[1]) {
            throw new IllegalArgumentException("FusedGeluMlp: " + pwconv1 + " and " + pwconv2
                    + " do not make a C -> hidden -> C pair");
        }
        this.cuda = (CudaNnOps) ops();
        this.pwconv1 = pwconv1;
        this.pwconv2 = pwconv2;
        this.parameters = Collections.unmodifiableMap(
                Sequential.collect(List.of("pwconv1", "pwconv2"), List.of(pwconv1, pwconv2)));
    }

    /** Checked before the layer makes its ops: its kernels exist on CUDA only. */
    private static Device requireCuda(Device device) {
        if (device == null || !device.isCuda()) {
            throw new IllegalArgumentException("FusedGeluMlp: runs on a CUDA device, got " + device);
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
        cuda.linearForwardGelu(s.plan1, x, pwconv1.weight().value(), valueOrNull(pwconv1.bias()), s.z, s.h);
        cuda.linearForward(s.plan2, s.h, pwconv2.weight().value(), valueOrNull(pwconv2.bias()), s.y);
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        MlpState s = backwardState(gradY);
        cuda.linearBackwardWeights(s.plan2, s.h, gradY, pwconv2.weight().grad(), gradOrNull(pwconv2.bias()), true);
        cuda.linearBackwardDataGelu(s.plan2, gradY, pwconv2.weight().value(), s.z, s.gradZ);
        cuda.linearBackwardWeights(s.plan1, lastInput(), s.gradZ, pwconv1.weight().grad(), gradOrNull(pwconv1.bias()),
                true);
        cuda.linearBackwardData(s.plan1, s.gradZ, pwconv1.weight().value(), s.gradX);
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
        pwconv1.zeroGrad();
        pwconv2.zeroGrad();
    }

    @Override
    public Module train() {
        super.train();
        pwconv1.train();
        pwconv2.train();
        return this;
    }

    @Override
    public Module eval() {
        super.eval();
        pwconv1.eval();
        pwconv2.eval();
        return this;
    }

    @Override
    public void close() {
        pwconv1.close();
        pwconv2.close();
        super.close();
    }

    @Override
    public String toString() {
        return "FusedGeluMlp(" + pwconv1 + ", GELU, " + pwconv2 + ")";
    }

    /** Per input shape: the two layers' plans, z and gelu(z) (hidden channels), and the gradient at z. */
    final class MlpState extends Layer.State {
        final NativePlan plan1;
        final NativePlan plan2;
        final Tensor z;
        final Tensor h;
        final Tensor gradZ;

        MlpState(long[] shape) {
            super(device(), shape, shape);
            long[] hiddenShape = shape.clone();
            hiddenShape[1] = hidden();
            long inner = inner(shape);
            plan1 = own(ops().linear(shape[0], channels(), hidden(), inner));
            plan2 = own(ops().linear(shape[0], hidden(), channels(), inner));
            z = scratch(hiddenShape);
            h = scratch(hiddenShape);
            gradZ = scratch(hiddenShape);
        }
    }
}
