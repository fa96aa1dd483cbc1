package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.ffi.dcls_nn_h;
import io.dcls4j.ffi.dcls_pool_desc;
import io.dcls4j.internal.Cuda;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Iterator;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

import static io.dcls4j.Compare.close;
import static io.dcls4j.Compare.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The io.dcls4j.nn layers made on a CUDA device against the same layers on the CPU (oneDNN, checked against PyTorch
 * elsewhere): the same initial parameters from the same seed, then the output, the input gradient and the parameter
 * gradients, accumulated over two backward passes, for channels-last (N, C) and channels-first (N, C, H, W) inputs,
 * pooling, DropPath's masks, the loss, and a ConvNeXt block's pointwise half. Runs on a GPU, and over the build's CUDA
 * emulation (these layers need no cuDNN; where it is loaded, pooling, batch norm and the loss use it in part);
 * skipped where there is no CUDA device.
 */
class GpuLayersTest {
    private static final Device GPU = Device.cuda(0);

    @BeforeEach
    void needsCuda() {
        Assumptions.assumeTrue(Device.cudaAvailable(), () -> "no CUDA device: " + Cuda.noDeviceReason());
    }

    private static float[] random(SplittableRandom r, long n) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    /**
     * Builds the module on the CPU and on the GPU, runs forward and two backward passes on both with the same
     * data, and compares the output, the input gradient and every parameter gradient.
     */
    private static void sameOnBothDevices(String what, Function<Device, Module> make, long[] inputShape) {
        SplittableRandom r = new SplittableRandom(what.hashCode());
        try (Arena arena = Arena.ofConfined(); Module cpu = make.apply(Device.cpu()); Module gpu = make.apply(GPU)) {
            float[] xv = random(r, count(inputShape));
            Tensor xc = Tensor.allocate(arena, inputShape).copyFrom(xv);
            Tensor xg = Tensor.allocate(arena, GPU, inputShape).copyFrom(xv);
            Tensor yc = cpu.forward(xc);
            Tensor yg = gpu.forward(xg);
            assertEquals(GPU, yg.device(), what + ": the output is on the GPU");
            close(what + " y", toDouble(yc.toFloatArray()), yg.toFloatArray());

            float[] gv = random(r, yc.elementCount());
            Tensor gc = Tensor.allocate(arena, yc.shape()).copyFrom(gv);
            Tensor gg = Tensor.allocate(arena, GPU, yc.shape()).copyFrom(gv);
            cpu.zeroGrad();
            gpu.zeroGrad();
            cpu.backward(gc);
            gpu.backward(gg);
            Tensor gxc = cpu.backward(gc);   // twice: parameter gradients accumulate
            Tensor gxg = gpu.backward(gg);
            close(what + " gradX", toDouble(gxc.toFloatArray()), gxg.toFloatArray());

            Map<String, Parameter> pc = cpu.namedParameters();
            Map<String, Parameter> pg = gpu.namedParameters();
            assertEquals(pc.keySet(), pg.keySet(), what + ": parameter names");
            Iterator<Parameter> ig = pg.values().iterator();
            for (Parameter p : pc.values()) {
                Parameter q = ig.next();
                assertEquals(GPU, q.value().device(), what + " " + p.name() + " is on the GPU");
                close(what + " " + p.name() + " (initial value)", toDouble(p.value().toFloatArray()),
                        q.value().toFloatArray(), 0);
                close(what + " grad " + p.name(), toDouble(p.grad().toFloatArray()), q.grad().toFloatArray());
            }
        }
    }

    @Test
    void linearMatchesTheCpu() {
        sameOnBothDevices("linear (N, C)", d -> new Linear(37, 70, true, 3, d), new long[] {5, 37});
        sameOnBothDevices("linear (N, C, H, W)", d -> new Linear(12, 20, true, 4, d), new long[] {2, 12, 3, 5});
        sameOnBothDevices("linear without bias", d -> new Linear(9, 65, false, 5, d), new long[] {70, 9});
    }

    @Test
    void layerNormMatchesTheCpu() {
        sameOnBothDevices("layer norm (N, C)", d -> new LayerNorm(24, 1e-6, d), new long[] {6, 24});
        sameOnBothDevices("layer norm channels first", d -> new LayerNorm(8, 1e-6, d), new long[] {2, 8, 5, 3});
    }

    @Test
    void activationsMatchTheCpu() {
        sameOnBothDevices("gelu", Gelu::new, new long[] {3, 4, 5, 6});
        sameOnBothDevices("relu", Relu::new, new long[] {7, 11});
    }

    @Test
    void layerScaleMatchesTheCpu() {
        sameOnBothDevices("layer scale", d -> new LayerScale(6, 0.5, d), new long[] {2, 6, 4, 4});
    }

    @Test
    void poolingMatchesTheCpu() {
        sameOnBothDevices("max pool 2D", d -> new MaxPool(new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, d),
                new long[] {2, 3, 7, 8});
        sameOnBothDevices("avg pool 1D", d -> new AvgPool(new int[] {4}, new int[] {3}, new int[] {2}, d),
                new long[] {2, 3, 11});
        sameOnBothDevices("global avg pool", GlobalAvgPool::new, new long[] {3, 5, 4, 6});
    }

    /**
     * Which implementation the pooling, batch norm and cross-entropy plans run (dcls_cuda_*_plan_info): cuDNN where
     * it is loaded (average pooling's forward pass, batch norm, the log-softmax), dcls4j's kernels otherwise, as over
     * the emulation, and always for max pooling.
     */
    @Test
    void theLayersPlansSayWhetherCudnnRuns() {
        CudaNnOps ops = (CudaNnOps) NnOps.of(GPU);
        boolean cudnn = Cuda.cudnnVersionCode() > 0;
        try (Arena arena = Arena.ofConfined()) {
            for (int kind : new int[] {dcls_nn_h.DCLS_POOL_MAX(), dcls_nn_h.DCLS_POOL_AVG_INCLUDE_PADDING(),
                    dcls_nn_h.DCLS_POOL_AVG_EXCLUDE_PADDING()}) {
                MemorySegment desc = dcls_pool_desc.allocate(arena);
                dcls_pool_desc.ndim(desc, 2);
                dcls_pool_desc.kind(desc, kind);
                dcls_pool_desc.batch(desc, 2);
                dcls_pool_desc.channels(desc, 3);
                for (int d = 0; d < 3; d++) {
                    dcls_pool_desc.input_size(desc, d, d < 2 ? 7 + d : 1);
                    dcls_pool_desc.kernel_size(desc, d, d < 2 ? 3 : 1);
                    dcls_pool_desc.stride(desc, d, d < 2 ? 2 : 1);
                    dcls_pool_desc.padding(desc, d, d < 2 ? 1 : 0);
                }
                try (NativePlan plan = ops.pool(desc)) {
                    String info = ops.poolInfo(plan);
                    boolean onCudnn = cudnn && kind != dcls_nn_h.DCLS_POOL_MAX();
                    assertTrue(onCudnn ? info.equals("forward=cudnn backward=dcls")
                            : info.startsWith("forward=dcls backward=dcls ("), "pool kind " + kind + ": " + info);
                }
            }
            try (NativePlan plan = ops.batchNorm(4, 5, 9, 1e-5f)) {
                String info = ops.batchNormInfo(plan);
                assertTrue(info.startsWith(cudnn ? "training=cudnn evaluation=cudnn backward=cudnn"
                        : "training=dcls evaluation=dcls backward=dcls"), "batch norm: " + info);
            }
            try (NativePlan plan = ops.crossEntropy(6, 10)) {
                String info = ops.crossEntropyInfo(plan);
                assertTrue(info.startsWith(cudnn ? "log_softmax=cudnn" : "log_softmax=dcls"), "cross-entropy: " + info);
            }
        }
    }

    @Test
    void batchNormMatchesTheCpuAndKeepsTheSameRunningStatistics() {
        sameOnBothDevices("batch norm", d -> new BatchNorm(5, 1e-5, 0.1, d), new long[] {4, 5, 3, 3});
        try (Arena arena = Arena.ofConfined(); BatchNorm cpu = new BatchNorm(3, 1e-5, 0.2);
             BatchNorm gpu = new BatchNorm(3, 1e-5, 0.2, GPU)) {
            SplittableRandom r = new SplittableRandom(2);
            for (int step = 0; step < 3; step++) {
                float[] xv = random(r, 6 * 3 * 4);
                cpu.forward(Tensor.allocate(arena, 6, 3, 4).copyFrom(xv));
                gpu.forward(Tensor.allocate(arena, GPU, 6, 3, 4).copyFrom(xv));
            }
            close("running mean", toDouble(cpu.runningMean().toFloatArray()), gpu.runningMean().toFloatArray());
            close("running var", toDouble(cpu.runningVar().toFloatArray()), gpu.runningVar().toFloatArray());
            cpu.eval();
            gpu.eval();
            float[] xv = random(r, 2 * 3 * 4);
            Tensor yc = cpu.forward(Tensor.allocate(arena, 2, 3, 4).copyFrom(xv));
            Tensor yg = gpu.forward(Tensor.allocate(arena, GPU, 2, 3, 4).copyFrom(xv));
            close("eval y", toDouble(yc.toFloatArray()), yg.toFloatArray());
        }
    }

    @Test
    void convolutionsMatchTheCpu() {
        sameOnBothDevices("conv stem 4x4/4", d -> new Conv(2, 6, new int[] {4, 4}, new int[] {4, 4}, new int[] {0, 0},
                null, 1, true, 21, d), new long[] {2, 2, 8, 12});
        sameOnBothDevices("conv 3x3 groups 2", d -> new Conv(4, 6, new int[] {3, 3}, new int[] {1, 1},
                new int[] {1, 1}, null, 2, false, 22, d), new long[] {1, 4, 5, 6});
        sameOnBothDevices("conv 1D strided", d -> new Conv(3, 2, new int[] {5}, new int[] {2}, new int[] {2}, null, 1,
                true, 23, d), new long[] {2, 3, 17});
    }

    /**
     * Two training steps on both devices: new parameter values before the second (set alike on both, so that a spread
     * kernel left with the first step's weights shows), and the parameter gradients accumulated over both (so that
     * a spread gradient not left zero by the first gather shows). Compared after each: output, input gradient and
     * every parameter gradient.
     */
    private static void sameTwoStepsOnBothDevices(String what, Function<Device, Module> make, long[] inputShape) {
        SplittableRandom r = new SplittableRandom(what.hashCode());
        try (Arena arena = Arena.ofConfined(); Module cpu = make.apply(Device.cpu()); Module gpu = make.apply(GPU)) {
            cpu.zeroGrad();
            gpu.zeroGrad();
            for (int step = 1; step <= 2; step++) {
                String at = what + " step " + step;
                if (step == 2) {
                    Iterator<Parameter> ig = gpu.namedParameters().values().iterator();
                    for (Parameter p : cpu.namedParameters().values()) {
                        float[] v = random(r, p.value().elementCount());
                        p.value().copyFrom(v);
                        ig.next().value().copyFrom(v);
                    }
                }
                float[] xv = random(r, count(inputShape));
                Tensor yc = cpu.forward(Tensor.allocate(arena, inputShape).copyFrom(xv));
                Tensor yg = gpu.forward(Tensor.allocate(arena, GPU, inputShape).copyFrom(xv));
                close(at + " y", toDouble(yc.toFloatArray()), yg.toFloatArray());
                float[] gv = random(r, yc.elementCount());
                Tensor gxc = cpu.backward(Tensor.allocate(arena, yc.shape()).copyFrom(gv));
                Tensor gxg = gpu.backward(Tensor.allocate(arena, GPU, yc.shape()).copyFrom(gv));
                close(at + " gradX", toDouble(gxc.toFloatArray()), gxg.toFloatArray());
                Iterator<Parameter> ig = gpu.namedParameters().values().iterator();
                for (Parameter p : cpu.namedParameters().values()) {
                    Parameter q = ig.next();
                    assertEquals(p.name(), q.name(), at + ": parameter names");
                    close(at + " grad " + p.name(), toDouble(p.grad().toFloatArray()), q.grad().toFloatArray());
                }
            }
        }
    }

    /** Dilated convolutions run on the device's spread kernel (dcls_cuda_kernel_spread): against the CPU's. */
    @Test
    void dilatedConvolutionsMatchTheCpu() {
        sameTwoStepsOnBothDevices("conv 1D dilation 2", d -> new Conv(3, 4, new int[] {3}, new int[] {1},
                new int[] {2}, new int[] {2}, 1, true, 31, d), new long[] {2, 3, 13});
        sameTwoStepsOnBothDevices("conv 1D depthwise dilation 3", d -> new Conv(4, 4, new int[] {5}, new int[] {1},
                new int[] {6}, new int[] {3}, 4, true, 32, d), new long[] {2, 4, 19});
        sameTwoStepsOnBothDevices("conv 2D dilation 2 strided", d -> new Conv(3, 5, new int[] {3, 3},
                new int[] {2, 1}, new int[] {2, 2}, new int[] {2, 2}, 1, true, 33, d), new long[] {2, 3, 9, 8});
        sameTwoStepsOnBothDevices("conv 2D depthwise dilation 3", d -> new Conv(6, 6, new int[] {3, 3},
                new int[] {1, 1}, new int[] {3, 3}, new int[] {3, 3}, 6, true, 34, d), new long[] {2, 6, 10, 9});
        sameTwoStepsOnBothDevices("conv 2D dilation (3, 2) groups 2", d -> new Conv(4, 6, new int[] {3, 2},
                new int[] {1, 1}, new int[] {3, 1}, new int[] {3, 2}, 2, true, 35, d), new long[] {1, 4, 8, 7});
    }

    @Test
    void dropPathDrawsTheSameMasksOnBothDevices() {
        sameOnBothDevices("drop path", d -> new DropPath(0.5, 9, d), new long[] {8, 3, 4, 4});
    }

    @Test
    void crossEntropyMatchesTheCpu() {
        SplittableRandom r = new SplittableRandom(5);
        int[] labels = {3, 0, 9, 9, 4, 1};
        try (Arena arena = Arena.ofConfined(); CrossEntropyLoss cpu = new CrossEntropyLoss(0.1);
             CrossEntropyLoss gpu = new CrossEntropyLoss(0.1, GPU)) {
            float[] logits = random(r, 60);
            Tensor lc = Tensor.allocate(arena, 6, 10).copyFrom(logits);
            Tensor lg = Tensor.allocate(arena, GPU, 6, 10).copyFrom(logits);
            float want = cpu.forward(lc, labels);
            close("loss", new double[] {want}, new float[] {gpu.forward(lg, labels)});
            close("grad logits", toDouble(cpu.backward().toFloatArray()), gpu.backward().toFloatArray());
            assertEquals(GPU, gpu.backward().device());
            var e = assertThrows(IllegalArgumentException.class, () -> gpu.forward(lc, labels));
            assertTrue(e.getMessage().contains("logits are on cpu, the loss on cuda:0"), e.getMessage());
        }
    }

    /** ConvNeXt's pointwise half in its channels-first form: x + gamma * pw2(gelu(pw1(norm(x)))). */
    @Test
    void aResidualPointwiseBlockMatchesTheCpu() {
        sameOnBothDevices("residual block", d -> new Residual(new Sequential()
                .add(new LayerNorm(8, 1e-6, d))
                .add(new Linear(8, 32, true, 11, d))
                .add(new Gelu(d))
                .add(new Linear(32, 8, true, 12, d))
                .add(new LayerScale(8, 0.1, d)), d), new long[] {2, 8, 3, 3});
    }

    @Test
    void anInputOnTheWrongDeviceIsRefusedNamingBoth() {
        try (Arena arena = Arena.ofConfined(); Linear gpu = new Linear(4, 3, true, 1, GPU);
             LayerNorm cpu = new LayerNorm(4, 1e-6)) {
            Tensor host = Tensor.allocate(arena, 2, 4);
            Tensor device = Tensor.allocate(arena, GPU, 2, 4);
            var e = assertThrows(IllegalArgumentException.class, () -> gpu.forward(host));
            assertTrue(e.getMessage().contains("input is on cpu, the layer on cuda:0"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> cpu.forward(device));
            assertTrue(e.getMessage().contains("give its constructor the device"), e.getMessage());
            gpu.forward(device);
            e = assertThrows(IllegalArgumentException.class, () -> gpu.backward(Tensor.allocate(arena, 2, 3)));
            assertTrue(e.getMessage().contains("gradY is on cpu"), e.getMessage());
        }
    }
}
