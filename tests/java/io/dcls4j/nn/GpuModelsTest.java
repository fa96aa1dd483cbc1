package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Interpolation;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.internal.Cuda;
import io.dcls4j.optim.SGD;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Iterator;
import java.util.SplittableRandom;
import java.util.function.Function;

import static io.dcls4j.Compare.close;
import static io.dcls4j.Compare.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The two models built on a CUDA device against the same models on the CPU, from the same seed: three training steps
 * (forward, cross-entropy, backward, SGD with momentum on the device, position clamp), comparing the loss, every
 * parameter gradient and every parameter after each step; and SGD's device update alone. Over the build's CUDA
 * emulation too: the dense convolutions there run on dcls4j's direct kernels, the depthwise ones on its depthwise
 * kernels.
 *
 * <p>Not AdamW here: the two devices' gradients differ by rounding (about 1e-5 relative: other summation orders),
 * and AdamW's first steps move every element by about lr whatever its gradient's size, so an element whose gradient
 * is within that rounding of zero may step either way. SGD's step is proportional to the gradient. AdamW's device
 * update is checked against float64 by test_cuda_nn and against the CPU on a DCLS layer by GpuLayerTest.
 */
class GpuModelsTest {
    private static final Device GPU = Device.cuda(0);

    @BeforeEach
    void needsCuda() {
        Assumptions.assumeTrue(Device.cudaAvailable(), () -> "no CUDA device: " + Cuda.noDeviceReason());
    }

    /** A model of either kind, with its position clamp. */
    private interface Model extends Module {
        void clamp();
    }

    private static Model convNeXt(Device d) {
        ConvNeXtDcls m = ConvNeXtDcls.builder().inChannels(1).numClasses(10).depths(1, 1).dims(8, 16).stemKernel(2)
                .dclsKernelSize(5).dclsKernelCount(3).interpolation(Interpolation.GAUSSIAN).dropPathRate(0.2)
                .layerScaleInit(0.5).seed(5).device(d).build();
        return wrap(m, m::clampPositions);
    }

    /** ConvNeXt with dilated depthwise convolutions in place of DCLS: the spread kernel on the device. */
    private static Model convNeXtDilated(Device d) {
        ConvNeXtDcls m = ConvNeXtDcls.builder().inChannels(1).numClasses(10).depths(1, 1).dims(8, 16).stemKernel(2)
                .depthwise(ConvNeXtDcls.Depthwise.DILATED).depthwiseKernelSize(3).dilation(3)
                .interpolation(Interpolation.GAUSSIAN).dropPathRate(0.2).layerScaleInit(0.5).seed(5).device(d)
                .build();
        return wrap(m, m::clampPositions);
    }

    private static Model resNet(Device d) {
        ResNetDcls m = ResNetDcls.builder(ResNetDcls.Layout.RESNET18).stem(ResNetDcls.Stem.SMALL).width(4)
                .depths(1, 1).inChannels(3).numClasses(10).dclsKernelSize(5).dclsKernelCount(3)
                .interpolation(Interpolation.BILINEAR).seed(5).device(d).build();
        return wrap(m, m::clampPositions);
    }

    private static Model wrap(Module m, Runnable clamp) {
        return new Model() {
            public Tensor forward(Tensor x) {
                return m.forward(x);
            }

            public Tensor backward(Tensor g) {
                return m.backward(g);
            }

            public java.util.Map<String, Parameter> namedParameters() {
                return m.namedParameters();
            }

            public void zeroGrad() {
                m.zeroGrad();
            }

            public void close() {
                m.close();
            }

            public void clamp() {
                clamp.run();
            }
        };
    }

    private static void sameTrainingOnBothDevices(String what, Function<Device, Model> make, long[] inputShape) {
        SplittableRandom r = new SplittableRandom(11);
        try (Arena arena = Arena.ofConfined(); Model cpu = make.apply(Device.cpu()); Model gpu = make.apply(GPU);
             CrossEntropyLoss lossCpu = new CrossEntropyLoss(0.1);
             CrossEntropyLoss lossGpu = new CrossEntropyLoss(0.1, GPU);
             SGD optCpu = SGD.builder().lr(0.05).momentum(0.9).weightDecay(1e-3)
                     .params(cpu.namedParameters().values()).build();
             SGD optGpu = SGD.builder().lr(0.05).momentum(0.9).weightDecay(1e-3)
                     .params(gpu.namedParameters().values()).build()) {
            int n = (int) inputShape[0];
            for (int step = 0; step < 3; step++) {
                float[] xv = new float[Math.toIntExact(inputShape[0] * inputShape[1] * inputShape[2] * inputShape[3])];
                for (int i = 0; i < xv.length; i++) {
                    xv[i] = (float) r.nextGaussian();
                }
                int[] labels = new int[n];
                for (int i = 0; i < n; i++) {
                    labels[i] = r.nextInt(10);
                }
                cpu.zeroGrad();
                gpu.zeroGrad();
                float lc = lossCpu.forward(cpu.forward(Tensor.allocate(arena, inputShape).copyFrom(xv)), labels);
                float lg = lossGpu.forward(gpu.forward(Tensor.allocate(arena, GPU, inputShape).copyFrom(xv)), labels);
                close(what + " step " + step + " loss", new double[] {lc}, new float[] {lg});
                cpu.backward(lossCpu.backward());
                gpu.backward(lossGpu.backward());
                compare(what + " step " + step + " grad", cpu, gpu, true);
                optCpu.step();
                optGpu.step();
                cpu.clamp();
                gpu.clamp();
                compare(what + " step " + step + " value", cpu, gpu, false);
            }
        }
    }

    private static void compare(String what, Module cpu, Module gpu, boolean grads) {
        assertEquals(cpu.namedParameters().keySet(), gpu.namedParameters().keySet(), what + ": names");
        Iterator<Parameter> ig = gpu.namedParameters().values().iterator();
        for (var e : cpu.namedParameters().entrySet()) {
            Parameter p = e.getValue();
            Parameter q = ig.next();
            assertEquals(GPU, q.value().device(), e.getKey() + " is on the GPU");
            Tensor a = grads ? p.grad() : p.value();
            Tensor b = grads ? q.grad() : q.value();
            close(what + " " + e.getKey(), toDouble(a.toFloatArray()), b.toFloatArray(), 2e-4);
        }
    }

    /** SGD's update on the device (momentum, dampening, weight decay) against the host's; Nesterov: test_cuda_nn. */
    @Test
    void sgdStepsTheSameOnBothDevices() {
        SplittableRandom r = new SplittableRandom(3);
        try (Arena arena = Arena.ofConfined(); Linear cpu = new Linear(7, 5, true, 2);
             Linear gpu = new Linear(7, 5, true, 2, GPU);
             SGD optCpu = SGD.builder().lr(0.1).momentum(0.8).dampening(0.1).weightDecay(0.01)
                     .params(cpu.namedParameters().values()).build();
             SGD optGpu = SGD.builder().lr(0.1).momentum(0.8).dampening(0.1).weightDecay(0.01)
                     .params(gpu.namedParameters().values()).build()) {
            for (int step = 0; step < 3; step++) {
                float[] xv = new float[21];
                float[] gv = new float[15];
                for (int i = 0; i < xv.length; i++) {
                    xv[i] = (float) r.nextGaussian();
                }
                for (int i = 0; i < gv.length; i++) {
                    gv[i] = (float) r.nextGaussian();
                }
                optCpu.zeroGrad();
                optGpu.zeroGrad();
                cpu.forward(Tensor.allocate(arena, 3, 7).copyFrom(xv));
                gpu.forward(Tensor.allocate(arena, GPU, 3, 7).copyFrom(xv));
                cpu.backward(Tensor.allocate(arena, 3, 5).copyFrom(gv));
                gpu.backward(Tensor.allocate(arena, GPU, 3, 5).copyFrom(gv));
                optCpu.step();
                optGpu.step();
                compare("SGD step " + step + " value", cpu, gpu, false);
                Parameter w = gpu.weight();
                assertEquals(GPU, optGpu.state(w, "momentum_buffer").device(), "the state lives with the parameter");
                close("SGD step " + step + " momentum", toDouble(optCpu.state(cpu.weight(), "momentum_buffer")
                        .toFloatArray()), optGpu.state(w, "momentum_buffer").toFloatArray());
            }
        }
    }

    @Test
    void convNeXtDclsTrainsTheSameOnBothDevices() {
        sameTrainingOnBothDevices("ConvNeXt-DCLS", GpuModelsTest::convNeXt, new long[] {4, 1, 16, 16});
    }

    @Test
    void convNeXtWithDilatedDepthwiseTrainsTheSameOnBothDevices() {
        sameTrainingOnBothDevices("ConvNeXt dilated", GpuModelsTest::convNeXtDilated, new long[] {4, 1, 16, 16});
    }

    @Test
    void resNetDclsTrainsTheSameOnBothDevices() {
        sameTrainingOnBothDevices("ResNet-DCLS", GpuModelsTest::resNet, new long[] {2, 3, 8, 8});
    }
}
