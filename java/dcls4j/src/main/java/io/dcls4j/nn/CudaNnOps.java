package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Tensor;
import io.dcls4j.ffi.dcls_cuda_nn_h;
import io.dcls4j.internal.Cuda;
import io.dcls4j.internal.CudaContext;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.ToIntFunction;

import static io.dcls4j.internal.Cuda.check;

/**
 * The network ops on one CUDA device: dcls_cuda_nn.h (dcls4j's kernels, and cuDNN for average pooling's forward
 * pass, batch norm and the cross-entropy's log-softmax where it is loaded), enqueued on the device's one context. Every call holds the context's lock, as {@link CudaContext}'s own calls do, and passes device addresses.
 */
final class CudaNnOps implements NnOps {
    private final CudaContext context;
    private final Device device;

    CudaNnOps(CudaContext context) {
        this.context = context;
        this.device = Device.cuda(context.device());
    }

    private static MemorySegment orNull(Tensor t) {
        return t == null ? MemorySegment.NULL : t.nativeAddress();
    }

    private NativePlan plan(ToIntFunction<MemorySegment> create, ToIntFunction<MemorySegment> destroy) {
        synchronized (context) {
            return new NativePlan(NnNative.create(create, Cuda::check), destroy, Cuda::check, context);
        }
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public NativePlan linear(long batch, long in, long out, long inner) {
        return plan(p -> dcls_cuda_nn_h.dcls_cuda_linear_plan_create(context.handle(), batch, in, out, inner, p),
                dcls_cuda_nn_h::dcls_cuda_linear_plan_destroy);
    }

    @Override
    public void linearForward(NativePlan plan, Tensor x, Tensor weight, Tensor bias, Tensor y) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_linear_forward(plan.get(), x.nativeAddress(), weight.nativeAddress(),
                    orNull(bias), y.nativeAddress()));
        }
    }

    @Override
    public void linearBackwardData(NativePlan plan, Tensor gradY, Tensor weight, Tensor gradX) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_linear_backward_data(plan.get(), gradY.nativeAddress(),
                    weight.nativeAddress(), gradX.nativeAddress()));
        }
    }

    @Override
    public void linearBackwardWeights(NativePlan plan, Tensor x, Tensor gradY, Tensor gradWeight, Tensor gradBias,
                                      boolean accumulate) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_linear_backward_weights(plan.get(), x.nativeAddress(),
                    gradY.nativeAddress(), gradWeight.nativeAddress(), orNull(gradBias), accumulate ? 1 : 0));
        }
    }

    @Override
    public NativePlan layerNorm(long batch, long channels, long inner, float eps) {
        return plan(p -> dcls_cuda_nn_h.dcls_cuda_layer_norm_plan_create(context.handle(), batch, channels, inner, eps,
                p), dcls_cuda_nn_h::dcls_cuda_layer_norm_plan_destroy);
    }

    @Override
    public void layerNormForward(NativePlan plan, Tensor x, Tensor weight, Tensor bias, Tensor y) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_layer_norm_forward(plan.get(), x.nativeAddress(), weight.nativeAddress(),
                    bias.nativeAddress(), y.nativeAddress()));
        }
    }

    @Override
    public void layerNormBackward(NativePlan plan, Tensor gradY, Tensor weight, Tensor gradX, Tensor gradWeight,
                                  Tensor gradBias, boolean accumulate) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_layer_norm_backward(plan.get(), gradY.nativeAddress(),
                    weight.nativeAddress(), gradX.nativeAddress(), gradWeight.nativeAddress(),
                    gradBias.nativeAddress(), accumulate ? 1 : 0));
        }
    }

    @Override
    public NativePlan batchNorm(long batch, long channels, long inner, float eps) {
        return plan(p -> dcls_cuda_nn_h.dcls_cuda_batch_norm_plan_create(context.handle(), batch, channels, inner, eps,
                p), dcls_cuda_nn_h::dcls_cuda_batch_norm_plan_destroy);
    }

    @Override
    public void batchNormForward(NativePlan plan, Tensor x, Tensor weight, Tensor bias, Tensor runningMean,
                                 Tensor runningVar, float momentum, boolean training, Tensor y) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_batch_norm_forward(plan.get(), x.nativeAddress(), weight.nativeAddress(),
                    bias.nativeAddress(), runningMean.nativeAddress(), runningVar.nativeAddress(), momentum,
                    training ? 1 : 0, y.nativeAddress()));
        }
    }

    @Override
    public void batchNormBackward(NativePlan plan, Tensor x, Tensor gradY, Tensor weight, Tensor gradX,
                                  Tensor gradWeight, Tensor gradBias, boolean accumulate) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_batch_norm_backward(plan.get(), x.nativeAddress(), gradY.nativeAddress(),
                    weight.nativeAddress(), gradX.nativeAddress(), gradWeight.nativeAddress(),
                    gradBias.nativeAddress(), accumulate ? 1 : 0));
        }
    }

    @Override
    public NativePlan activation(int kind, long count) {
        return plan(p -> dcls_cuda_nn_h.dcls_cuda_activation_plan_create(context.handle(), kind, count, p),
                dcls_cuda_nn_h::dcls_cuda_activation_plan_destroy);
    }

    @Override
    public void activationForward(NativePlan plan, Tensor x, Tensor y) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_activation_forward(plan.get(), x.nativeAddress(), y.nativeAddress()));
        }
    }

    @Override
    public void activationBackward(NativePlan plan, Tensor x, Tensor gradY, Tensor gradX) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_activation_backward(plan.get(), x.nativeAddress(), gradY.nativeAddress(),
                    gradX.nativeAddress()));
        }
    }

    @Override
    public NativePlan binary(int op, long[] aShape, long[] bShape) {
        return NnOps.withShapes(aShape, bShape, (a, b) -> plan(
                p -> dcls_cuda_nn_h.dcls_cuda_binary_plan_create(context.handle(), op, aShape.length, a, b, p),
                dcls_cuda_nn_h::dcls_cuda_binary_plan_destroy));
    }

    @Override
    public void binary(NativePlan plan, Tensor a, Tensor b, Tensor c) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_binary_execute(plan.get(), a.nativeAddress(), b.nativeAddress(),
                    c.nativeAddress()));
        }
    }

    @Override
    public NativePlan sum(long[] srcShape, long[] dstShape) {
        return NnOps.withShapes(srcShape, dstShape, (s, d) -> plan(
                p -> dcls_cuda_nn_h.dcls_cuda_sum_plan_create(context.handle(), srcShape.length, s, d, p),
                dcls_cuda_nn_h::dcls_cuda_sum_plan_destroy));
    }

    @Override
    public void sum(NativePlan plan, Tensor src, Tensor dst, boolean accumulate) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_sum_execute(plan.get(), src.nativeAddress(), dst.nativeAddress(),
                    accumulate ? 1 : 0));
        }
    }

    @Override
    public NativePlan pool(MemorySegment desc) {
        return plan(out -> dcls_cuda_nn_h.dcls_cuda_pool_plan_create(context.handle(), desc, out),
                dcls_cuda_nn_h::dcls_cuda_pool_plan_destroy);
    }

    @Override
    public long[] poolOutputSize(NativePlan plan) {
        return NnOps.outputSize(out -> dcls_cuda_nn_h.dcls_cuda_pool_plan_output_size(plan.get(), out), Cuda::check);
    }

    @Override
    public void poolForward(NativePlan plan, Tensor x, Tensor y) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_pool_forward(plan.get(), x.nativeAddress(), y.nativeAddress()));
        }
    }

    @Override
    public void poolBackward(NativePlan plan, Tensor gradY, Tensor gradX) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_pool_backward(plan.get(), gradY.nativeAddress(), gradX.nativeAddress()));
        }
    }

    @Override
    public NativePlan crossEntropy(long batch, long classes) {
        return plan(p -> dcls_cuda_nn_h.dcls_cuda_cross_entropy_plan_create(context.handle(), batch, classes, p),
                dcls_cuda_nn_h::dcls_cuda_cross_entropy_plan_destroy);
    }

    @Override
    public void crossEntropyForward(NativePlan plan, Tensor logits, MemorySegment labels, float labelSmoothing,
                                    Tensor loss) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_cross_entropy_forward(plan.get(), logits.nativeAddress(), labels,
                    labelSmoothing, loss.nativeAddress()));
        }
    }

    @Override
    public void crossEntropyBackward(NativePlan plan, Tensor gradLogits) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_cross_entropy_backward(plan.get(), gradLogits.nativeAddress()));
        }
    }

    @Override
    public void kernelSpread(KernelSpread g, Tensor weight, Tensor spread) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_kernel_spread(context.handle(), g.pairs, g.ndim, g.nativeKernel,
                    g.nativeDilation, weight.nativeAddress(), spread.nativeAddress()));
        }
    }

    @Override
    public void kernelGatherAdd(KernelSpread g, Tensor spreadGrad, Tensor weightGrad) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_kernel_gather_add(context.handle(), g.pairs, g.ndim, g.nativeKernel,
                    g.nativeDilation, spreadGrad.nativeAddress(), weightGrad.nativeAddress()));
        }
    }

    // ---- GELU fused into the linear GEMMs: CUDA only (FusedNormMlp), so not part of NnOps ----

    // (dcls_cuda_linear_forward_gelu, the GELU epilogue without the LayerNorm prologue, has no caller here: the
    // ConvNeXt block's pwconv1 always follows its LayerNorm, linearForwardNormGelu.)

    /** gradZ = the linear backward data of gradY, times gelu'(z): the gradient at z of a layer fed gelu(z). */
    void linearBackwardDataGelu(NativePlan plan, Tensor gradY, Tensor weight, Tensor z, Tensor gradZ) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_linear_backward_data_gelu(plan.get(), gradY.nativeAddress(),
                    weight.nativeAddress(), z.nativeAddress(), gradZ.nativeAddress()));
        }
    }

    // ---- a LayerNorm fused into the next linear's GEMMs: CUDA only (FusedNormMlp), so not part of NnOps ----

    /** The LayerNorm's statistics of x on a {@link #layerNorm} plan (kept for backward), without its output. */
    void layerNormStatistics(NativePlan normPlan, Tensor x) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_layer_norm_statistics(normPlan.get(), x.nativeAddress()));
        }
    }

    /**
     * z = the linear forward of layer_norm(x) (weight gamma, bias beta, normalised as the GEMM loads x, from
     * normPlan's statistics of x), y = gelu(z): one GEMM. {@code bias} may be null.
     */
    void linearForwardNormGelu(NativePlan plan, NativePlan normPlan, Tensor x, Tensor gamma, Tensor beta,
                               Tensor weight, Tensor bias, Tensor z, Tensor y) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_linear_forward_norm_gelu(plan.get(), normPlan.get(), x.nativeAddress(),
                    gamma.nativeAddress(), beta.nativeAddress(), weight.nativeAddress(), orNull(bias),
                    z.nativeAddress(), y.nativeAddress()));
        }
    }

    /** The linear's weight (and bias, if not null) gradient with layer_norm(x) as its input, recomputed on load. */
    void linearBackwardWeightsNorm(NativePlan plan, NativePlan normPlan, Tensor x, Tensor gamma, Tensor beta,
                                   Tensor gradZ, Tensor gradWeight, Tensor gradBias, boolean accumulate) {
        synchronized (context) {
            check(dcls_cuda_nn_h.dcls_cuda_linear_backward_weights_norm(plan.get(), normPlan.get(),
                    x.nativeAddress(), gamma.nativeAddress(), beta.nativeAddress(), gradZ.nativeAddress(),
                    gradWeight.nativeAddress(), orNull(gradBias), accumulate ? 1 : 0));
        }
    }

    // ---- which implementation a plan runs (dcls_cuda_*_plan_info) ----

    /** What the pooling plan runs per pass, "cudnn" or "dcls", e.g. "forward=cudnn backward=dcls". */
    String poolInfo(NativePlan plan) {
        return info(out -> dcls_cuda_nn_h.dcls_cuda_pool_plan_info(plan.get(), out));
    }

    /** What the batch norm plan runs per pass, e.g. "training=cudnn evaluation=cudnn backward=cudnn ...". */
    String batchNormInfo(NativePlan plan) {
        return info(out -> dcls_cuda_nn_h.dcls_cuda_batch_norm_plan_info(plan.get(), out));
    }

    /** What the cross-entropy plan runs per pass, e.g. "log_softmax=cudnn loss=dcls backward=dcls". */
    String crossEntropyInfo(NativePlan plan) {
        return info(out -> dcls_cuda_nn_h.dcls_cuda_cross_entropy_plan_info(plan.get(), out));
    }

    private String info(ToIntFunction<MemorySegment> call) {
        synchronized (context) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
                check(call.applyAsInt(out));
                return out.get(ValueLayout.ADDRESS, 0).reinterpret(1 << 16).getString(0);
            }
        }
    }
}
