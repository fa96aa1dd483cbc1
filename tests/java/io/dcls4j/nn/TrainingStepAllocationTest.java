package io.dcls4j.nn;

import io.dcls4j.Interpolation;
import io.dcls4j.Tensor;
import io.dcls4j.optim.AdamW;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A whole training step of each model (zeroGrad, forward, cross-entropy, backward, AdamW step, position clamp)
 * allocates nothing on the Java heap once warm: the thread's allocation counter stays put in at least 9 steps of 10.
 * (Not every step: the JIT compilers replace interpreted code in the first steps and recompile now and then later,
 * and those transitions allocate a few hundred bytes. An allocation in the step itself would show in every step.)
 * ConvNeXt-DCLS here has every kind of its layers (DCLS, LayerNorm, Linear, GELU, layer scale, DropPath in training
 * mode, the downsampling); ResNet-DCLS adds BatchNorm, ReLU, max pooling and the shortcut convolutions.
 */
class TrainingStepAllocationTest {
    private static final int WARMUP = 300;   // past the JIT's tiers: C2 compiles the step's paths after some hundred steps
    private static final int MEASURED = 300;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void convNeXtDclsStepAllocatesNothingOnTheHeap() {
        try (ConvNeXtDcls model = ConvNeXtDcls.builder().inChannels(1).numClasses(10).depths(1, 2).dims(8, 16)
                .stemKernel(2).dclsKernelSize(5).dclsKernelCount(3).interpolation(Interpolation.GAUSSIAN)
                .dropPathRate(0.2).layerScaleInit(1.0).seed(5).build()) {
            assertSteadyStateIsAllocationFree(model, model::clampPositions, 1, 16, "ConvNeXt-DCLS");
        }
    }

    /** Dilated depthwise convolutions: their spread kernel's scatter and gather too. */
    @Test
    void convNeXtDilatedStepAllocatesNothingOnTheHeap() {
        try (ConvNeXtDcls model = ConvNeXtDcls.builder().inChannels(1).numClasses(10).depths(1, 1).dims(8, 16)
                .stemKernel(2).depthwise(ConvNeXtDcls.Depthwise.DILATED).depthwiseKernelSize(3).dilation(2)
                .interpolation(Interpolation.GAUSSIAN).dropPathRate(0.2).layerScaleInit(1.0).seed(5).build()) {
            assertSteadyStateIsAllocationFree(model, model::clampPositions, 1, 16, "ConvNeXt dilated");
        }
    }

    @Test
    void resNetDclsStepAllocatesNothingOnTheHeap() {
        try (ResNetDcls model = ResNetDcls.builder(ResNetDcls.Layout.RESNET18).stem(ResNetDcls.Stem.SMALL).width(8)
                .depths(1, 1).inChannels(3).numClasses(10).dclsKernelSize(5).dclsKernelCount(3)
                .interpolation(Interpolation.BILINEAR).seed(5).build()) {
            assertSteadyStateIsAllocationFree(model, model::clampPositions, 3, 16, "ResNet-DCLS");
        }
    }

    private static void assertSteadyStateIsAllocationFree(Module model, Runnable clamp, int channels, int size,
                                                          String name) {
        try (Arena arena = Arena.ofConfined();
             CrossEntropyLoss loss = new CrossEntropyLoss();
             AdamW optimizer = AdamW.builder().lr(1e-3).weightDecay(0.05)
                     .params(List.copyOf(model.namedParameters().values())).build()) {
            Tensor x = Tensor.allocate(arena, 4, channels, size, size);
            SplittableRandom random = new SplittableRandom(3);
            for (long i = 0; i < x.elementCount(); i++) {
                x.set(i, (float) random.nextGaussian());
            }
            int[] labels = {1, 7, 3, 0};
            model.train();
            for (int i = 0; i < WARMUP; i++) {
                step(model, loss, optimizer, clamp, x, labels);
            }
            int allocatingSteps = 0;
            long total = 0;
            for (int i = 0; i < MEASURED; i++) {
                long before = THREADS.getCurrentThreadAllocatedBytes();
                step(model, loss, optimizer, clamp, x, labels);
                long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
                if (allocated != 0) {
                    allocatingSteps++;
                    total += allocated;
                }
            }
            assertTrue(allocatingSteps <= MEASURED / 10, name + ": " + allocatingSteps + " of " + MEASURED
                    + " warm training steps allocated on the Java heap (" + total + " bytes in all)");
        }
    }

    private static void step(Module model, CrossEntropyLoss loss, AdamW optimizer, Runnable clamp, Tensor x,
                             int[] labels) {
        model.zeroGrad();
        loss.forward(model.forward(x), labels);
        model.backward(loss.backward());
        optimizer.step();
        clamp.run();
    }
}
