package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Tensor;
import io.dcls4j.internal.CudaContext;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.BiFunction;
import java.util.function.IntConsumer;
import java.util.function.ToIntFunction;

/**
 * Where a layer's ops run: the CPU ({@link CpuNnOps}: dcls_nn.h, oneDNN) or one CUDA device ({@link CudaNnOps}:
 * dcls_cuda_nn.h, dcls4j's kernels). The two have one meaning, op for op, so that a layer is written once. Tensors
 * passed here are on the ops' device (the layer checked them); a plan belongs to the ops that made it.
 */
sealed interface NnOps permits CpuNnOps, CudaNnOps {

    /** The ops for tensors on {@code device} (a CUDA device's context is created on first use). */
    static NnOps of(Device device) {
        return device.isCuda() ? new CudaNnOps(CudaContext.of(device.index())) : CpuNnOps.INSTANCE;
    }

    Device device();

    /** The three longs a {@code *_plan_output_size(plan, int64_t[3])} call writes; {@code check} takes its status. */
    static long[] outputSize(ToIntFunction<MemorySegment> query, IntConsumer check) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_LONG, 3);
            check.accept(query.applyAsInt(out));
            return out.toArray(ValueLayout.JAVA_LONG);
        }
    }

    /** {@code create} called with two shapes as native arrays of longs (a binary op's or a sum's), freed after. */
    static NativePlan withShapes(long[] first, long[] second,
                                 BiFunction<MemorySegment, MemorySegment, NativePlan> create) {
        try (Arena arena = Arena.ofConfined()) {
            return create.apply(arena.allocateFrom(ValueLayout.JAVA_LONG, first),
                    arena.allocateFrom(ValueLayout.JAVA_LONG, second));
        }
    }

    NativePlan linear(long batch, long in, long out, long inner);

    /** {@code bias} may be null. */
    void linearForward(NativePlan plan, Tensor x, Tensor weight, Tensor bias, Tensor y);

    void linearBackwardData(NativePlan plan, Tensor gradY, Tensor weight, Tensor gradX);

    /** {@code gradBias} may be null. */
    void linearBackwardWeights(NativePlan plan, Tensor x, Tensor gradY, Tensor gradWeight, Tensor gradBias,
                               boolean accumulate);

    NativePlan layerNorm(long batch, long channels, long inner, float eps);

    void layerNormForward(NativePlan plan, Tensor x, Tensor weight, Tensor bias, Tensor y);

    void layerNormBackward(NativePlan plan, Tensor gradY, Tensor weight, Tensor gradX, Tensor gradWeight,
                           Tensor gradBias, boolean accumulate);

    NativePlan batchNorm(long batch, long channels, long inner, float eps);

    /** Training: the batch statistics, and the running ones updated in place; else the running ones. */
    void batchNormForward(NativePlan plan, Tensor x, Tensor weight, Tensor bias, Tensor runningMean, Tensor runningVar,
                          float momentum, boolean training, Tensor y);

    /** The gradient of the last forward ({@code x} as given to it). */
    void batchNormBackward(NativePlan plan, Tensor x, Tensor gradY, Tensor weight, Tensor gradX, Tensor gradWeight,
                           Tensor gradBias, boolean accumulate);

    /** {@code kind}: a dcls_activation. */
    NativePlan activation(int kind, long count);

    void activationForward(NativePlan plan, Tensor x, Tensor y);

    void activationBackward(NativePlan plan, Tensor x, Tensor gradY, Tensor gradX);

    /** c = a op b, b of {@code bShape} broadcast over a's {@code aShape}; {@code op}: a dcls_binary_op. */
    NativePlan binary(int op, long[] aShape, long[] bShape);

    void binary(NativePlan plan, Tensor a, Tensor b, Tensor c);

    /** dst = the sum of src over the axes where {@code dstShape} is 1. */
    NativePlan sum(long[] srcShape, long[] dstShape);

    void sum(NativePlan plan, Tensor src, Tensor dst, boolean accumulate);

    /** {@code desc}: a dcls_pool_desc. */
    NativePlan pool(MemorySegment desc);

    /** The plan's output size, its descriptor's first ndim axes (1 beyond). */
    long[] poolOutputSize(NativePlan plan);

    void poolForward(NativePlan plan, Tensor x, Tensor y);

    void poolBackward(NativePlan plan, Tensor gradY, Tensor gradX);

    NativePlan crossEntropy(long batch, long classes);

    /**
     * The mean loss into {@code loss} (one element, on the ops' device); {@code labels}: host memory, checked by the
     * caller, that may be reused when this returns.
     */
    void crossEntropyForward(NativePlan plan, Tensor logits, MemorySegment labels, float labelSmoothing, Tensor loss);

    void crossEntropyBackward(NativePlan plan, Tensor gradLogits);

    /**
     * A dilated convolution's spread kernel ({@link KernelSpread}): its taps set to {@code weight}; its gaps are not
     * written (zeroed once, when the spread kernel is allocated, they stay zero).
     */
    void kernelSpread(KernelSpread geometry, Tensor weight, Tensor spread);

    /**
     * {@code weightGrad} += {@code spreadGrad} at the taps; then every cell of {@code spreadGrad} is zero, gaps
     * included (a backward-weights pass writes those too), ready for the next pass to accumulate into.
     */
    void kernelGatherAdd(KernelSpread geometry, Tensor spreadGrad, Tensor weightGrad);
}
