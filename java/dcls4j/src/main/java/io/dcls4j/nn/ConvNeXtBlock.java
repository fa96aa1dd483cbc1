package io.dcls4j.nn;

import io.dcls4j.DclsConv;
import io.dcls4j.Device;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One ConvNeXt-DCLS block: x + drop_path(gamma * pwconv2(gelu(pwconv1(norm(dwconv(x)))))), with a depthwise
 * convolution (DCLS, or for comparisons a dense or dilated {@link Conv}), a channels-first LayerNorm and channel-wise Linear layers on (N, C, H, W) (the official
 * code permutes to channels-last for nn.Linear; the result is the same). Parameters in torch's order: the
 * block's own gamma first, then dwconv.*, norm.*, pwconv1.*, pwconv2.*. On CUDA the LayerNorm and the GELU are
 * fused into the two pointwise GEMMs ({@link FusedNormMlp}); the parameters, their names and the results are the
 * same.
 */
final class ConvNeXtBlock implements Module {
    final Module dwconv;
    final LayerNorm norm;
    final Linear pwconv1;
    final Linear pwconv2;
    final LayerScale gamma;
    private final Sequential body;
    private final Residual residual;

    /** The block's layers on {@code device}, where {@code dwconv} runs too. */
    ConvNeXtBlock(Module dwconv, int dim, double layerScaleInit, double dropPath, long seed, Device device) {
        this.dwconv = dwconv;
        this.norm = new LayerNorm(dim, 1e-6, device);
        this.pwconv1 = new Linear(dim, 4 * dim, true, seed + 1, device);
        this.pwconv2 = new Linear(4 * dim, dim, true, seed + 2, device);
        this.gamma = layerScaleInit > 0 ? new LayerScale(dim, layerScaleInit, device) : null;
        this.body = new Sequential().add("dwconv", dwconv);
        if (fusesNormMlp(device)) {
            body.add("", new FusedNormMlp(norm, pwconv1, pwconv2, device)); // names norm.*, pwconv1.*, pwconv2.*
        } else {
            body.add("norm", norm).add("pwconv1", pwconv1).add("act", new Gelu(device)).add("pwconv2", pwconv2);
        }
        if (gamma != null) {
            body.add("", gamma);
        }
        if (dropPath > 0) {
            body.add("drop_path", new DropPath(dropPath, seed + 3, device));
        }
        this.residual = new Residual(body, device);
    }

    /**
     * Whether a block on {@code device} fuses its LayerNorm and GELU into its pointwise layers: on CUDA, where the
     * fused GEMMs are dcls4j's own kernels; not on the CPU, where oneDNN's matmul would give gelu(z) but not z for
     * backward, and would not normalise its input as it loads it.
     */
    static boolean fusesNormMlp(Device device) {
        return device.isCuda();
    }

    /**
     * Whether this block runs norm -> pwconv1 -> GELU -> pwconv2 as {@link FusedNormMlp}: what its body holds (no
     * LayerNorm and no Gelu of their own).
     */
    boolean runsFusedNormMlp() {
        return body.children().stream().anyMatch(m -> m instanceof FusedNormMlp)
                && body.children().stream().noneMatch(m -> m instanceof Gelu || m instanceof LayerNorm);
    }

    /** The DCLS depthwise convolution, or null when the block has a dense or dilated one. */
    DclsConv dcls() {
        return dwconv instanceof DclsConv d ? d : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        return residual.forward(x);
    }

    @Override
    public Tensor backward(Tensor gradY) {
        return residual.backward(gradY);
    }

    @Override
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        if (gamma != null) {
            out.put("gamma", gamma.gamma());
        }
        out.putAll(residual.namedParameters()); // gamma again under the same name: no change of order
        return Collections.unmodifiableMap(out);
    }

    @Override
    public void zeroGrad() {
        residual.zeroGrad();
    }

    @Override
    public Module train() {
        residual.train();
        return this;
    }

    @Override
    public Module eval() {
        residual.eval();
        return this;
    }

    @Override
    public void close() {
        residual.close();
    }
}
