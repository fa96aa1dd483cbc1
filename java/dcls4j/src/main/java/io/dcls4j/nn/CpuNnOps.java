package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Tensor;
import io.dcls4j.ffi.dcls_nn_h;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.dcls4j.nn.NnNative.check;

/** The network ops on the CPU: dcls_nn.h (oneDNN primitives), on host tensors' segments. */
final class CpuNnOps implements NnOps {
    static final CpuNnOps INSTANCE = new CpuNnOps();

    private CpuNnOps() {}

    private static MemorySegment orNull(Tensor t) {
        return t == null ? MemorySegment.NULL : t.segment();
    }

    @Override
    public Device device() {
        return Device.cpu();
    }

    @Override
    public NativePlan linear(long batch, long in, long out, long inner) {
        return NativePlan.cpu(p -> dcls_nn_h.dcls_linear_plan_create(batch, in, out, inner, p),
                dcls_nn_h::dcls_linear_plan_destroy);
    }

    @Override
    public void linearForward(NativePlan plan, Tensor x, Tensor weight, Tensor bias, Tensor y) {
        check(dcls_nn_h.dcls_linear_forward(plan.get(), x.segment(), weight.segment(), orNull(bias), y.segment()));
    }

    @Override
    public void linearBackwardData(NativePlan plan, Tensor gradY, Tensor weight, Tensor gradX) {
        check(dcls_nn_h.dcls_linear_backward_data(plan.get(), gradY.segment(), weight.segment(), gradX.segment()));
    }

    @Override
    public void linearBackwardWeights(NativePlan plan, Tensor x, Tensor gradY, Tensor gradWeight, Tensor gradBias,
                                      boolean accumulate) {
        check(dcls_nn_h.dcls_linear_backward_weights(plan.get(), x.segment(), gradY.segment(), gradWeight.segment(),
                orNull(gradBias), accumulate ? 1 : 0));
    }

    @Override
    public NativePlan layerNorm(long batch, long channels, long inner, float eps) {
        return NativePlan.cpu(p -> dcls_nn_h.dcls_layer_norm_plan_create(batch, channels, inner, eps, p),
                dcls_nn_h::dcls_layer_norm_plan_destroy);
    }

    @Override
    public void layerNormForward(NativePlan plan, Tensor x, Tensor weight, Tensor bias, Tensor y) {
        check(dcls_nn_h.dcls_layer_norm_forward(plan.get(), x.segment(), weight.segment(), bias.segment(),
                y.segment()));
    }

    @Override
    public void layerNormBackward(NativePlan plan, Tensor gradY, Tensor weight, Tensor gradX, Tensor gradWeight,
                                  Tensor gradBias, boolean accumulate) {
        check(dcls_nn_h.dcls_layer_norm_backward(plan.get(), gradY.segment(), weight.segment(), gradX.segment(),
                gradWeight.segment(), gradBias.segment(), accumulate ? 1 : 0));
    }

    @Override
    public NativePlan batchNorm(long batch, long channels, long inner, float eps) {
        return NativePlan.cpu(p -> dcls_nn_h.dcls_batch_norm_plan_create(batch, channels, inner, eps, p),
                dcls_nn_h::dcls_batch_norm_plan_destroy);
    }

    @Override
    public void batchNormForward(NativePlan plan, Tensor x, Tensor weight, Tensor bias, Tensor runningMean,
                                 Tensor runningVar, float momentum, boolean training, Tensor y) {
        check(dcls_nn_h.dcls_batch_norm_forward(plan.get(), x.segment(), weight.segment(), bias.segment(),
                runningMean.segment(), runningVar.segment(), momentum, training ? 1 : 0, y.segment()));
    }

    @Override
    public void batchNormBackward(NativePlan plan, Tensor x, Tensor gradY, Tensor weight, Tensor gradX,
                                  Tensor gradWeight, Tensor gradBias, boolean accumulate) {
        check(dcls_nn_h.dcls_batch_norm_backward(plan.get(), x.segment(), gradY.segment(), weight.segment(),
                gradX.segment(), gradWeight.segment(), gradBias.segment(), accumulate ? 1 : 0));
    }

    @Override
    public NativePlan activation(int kind, long count) {
        return NativePlan.cpu(p -> dcls_nn_h.dcls_activation_plan_create(kind, count, p),
                dcls_nn_h::dcls_activation_plan_destroy);
    }

    @Override
    public void activationForward(NativePlan plan, Tensor x, Tensor y) {
        check(dcls_nn_h.dcls_activation_forward(plan.get(), x.segment(), y.segment()));
    }

    @Override
    public void activationBackward(NativePlan plan, Tensor x, Tensor gradY, Tensor gradX) {
        check(dcls_nn_h.dcls_activation_backward(plan.get(), x.segment(), gradY.segment(), gradX.segment()));
    }

    @Override
    public NativePlan binary(int op, long[] aShape, long[] bShape) {
        return NnOps.withShapes(aShape, bShape, (a, b) -> NativePlan.cpu(
                p -> dcls_nn_h.dcls_binary_plan_create(op, aShape.length, a, b, p),
                dcls_nn_h::dcls_binary_plan_destroy));
    }

    @Override
    public void binary(NativePlan plan, Tensor a, Tensor b, Tensor c) {
        check(dcls_nn_h.dcls_binary_execute(plan.get(), a.segment(), b.segment(), c.segment()));
    }

    @Override
    public NativePlan sum(long[] srcShape, long[] dstShape) {
        return NnOps.withShapes(srcShape, dstShape, (s, d) -> NativePlan.cpu(
                p -> dcls_nn_h.dcls_sum_plan_create(srcShape.length, s, d, p), dcls_nn_h::dcls_sum_plan_destroy));
    }

    @Override
    public void sum(NativePlan plan, Tensor src, Tensor dst, boolean accumulate) {
        check(dcls_nn_h.dcls_sum_execute(plan.get(), src.segment(), dst.segment(), accumulate ? 1 : 0));
    }

    @Override
    public NativePlan pool(MemorySegment desc) {
        return NativePlan.cpu(out -> dcls_nn_h.dcls_pool_plan_create(desc, out),
                dcls_nn_h::dcls_pool_plan_destroy);
    }

    @Override
    public long[] poolOutputSize(NativePlan plan) {
        return NnOps.outputSize(out -> dcls_nn_h.dcls_pool_plan_output_size(plan.get(), out), NnNative::check);
    }

    @Override
    public void poolForward(NativePlan plan, Tensor x, Tensor y) {
        check(dcls_nn_h.dcls_pool_forward(plan.get(), x.segment(), y.segment()));
    }

    @Override
    public void poolBackward(NativePlan plan, Tensor gradY, Tensor gradX) {
        check(dcls_nn_h.dcls_pool_backward(plan.get(), gradY.segment(), gradX.segment()));
    }

    @Override
    public NativePlan crossEntropy(long batch, long classes) {
        return NativePlan.cpu(p -> dcls_nn_h.dcls_cross_entropy_plan_create(batch, classes, p),
                dcls_nn_h::dcls_cross_entropy_plan_destroy);
    }

    @Override
    public void crossEntropyForward(NativePlan plan, Tensor logits, MemorySegment labels, float labelSmoothing,
                                    Tensor loss) {
        check(dcls_nn_h.dcls_cross_entropy_forward(plan.get(), logits.segment(), labels, labelSmoothing,
                loss.segment()));
    }

    @Override
    public void crossEntropyBackward(NativePlan plan, Tensor gradLogits) {
        check(dcls_nn_h.dcls_cross_entropy_backward(plan.get(), gradLogits.segment()));
    }

    // The spread kernel's loops, in Java: a copy per weight, at offsets the geometry's strides give (no index array).

    @Override
    public void kernelSpread(KernelSpread g, Tensor weight, Tensor spread) {
        moveTaps(g, weight.segment(), spread.segment(), false);
    }

    @Override
    public void kernelGatherAdd(KernelSpread g, Tensor spreadGrad, Tensor weightGrad) {
        moveTaps(g, weightGrad.segment(), spreadGrad.segment(), true);
        spreadGrad.fill(0f);
    }

    /**
     * Over the taps in weight order: {@code spread[tap] = weights[w]}, or with {@code gather}
     * {@code weights[w] += spread[tap]}.
     */
    private static void moveTaps(KernelSpread g, MemorySegment weights, MemorySegment spread, boolean gather) {
        long w = 0;
        for (long pair = 0; pair < g.pairs; pair++) {
            long cell = pair * g.cells;
            for (int j0 = 0; j0 < g.kernel3[0]; j0++) {
                for (int j1 = 0; j1 < g.kernel3[1]; j1++) {
                    for (int j2 = 0; j2 < g.kernel3[2]; j2++, w++) {
                        long at = cell + j0 * g.tapStride3[0] + j1 * g.tapStride3[1] + j2 * g.tapStride3[2];
                        if (gather) {
                            weights.setAtIndex(ValueLayout.JAVA_FLOAT, w, weights.getAtIndex(ValueLayout.JAVA_FLOAT, w)
                                    + spread.getAtIndex(ValueLayout.JAVA_FLOAT, at));
                        } else {
                            spread.setAtIndex(ValueLayout.JAVA_FLOAT, at,
                                    weights.getAtIndex(ValueLayout.JAVA_FLOAT, w));
                        }
                    }
                }
            }
        }
    }
}
