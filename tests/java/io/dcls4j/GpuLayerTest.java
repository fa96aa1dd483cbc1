package io.dcls4j;

import io.dcls4j.NativeVsReferenceTest.Case;
import io.dcls4j.checkpoint.Checkpoint;
import io.dcls4j.ffi.dcls_h;
import io.dcls4j.internal.CudaContext;
import io.dcls4j.optim.AdamW;
import io.dcls4j.optim.LrSchedule;
import io.dcls4j.optim.ParamGroup;
import io.dcls4j.optim.SigmaSchedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static io.dcls4j.BadInputTest.fails;
import static io.dcls4j.Compare.close;
import static io.dcls4j.Compare.toDouble;
import static io.dcls4j.GpuSupport.GPU;
import static io.dcls4j.GpuSupport.assumeGpu;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DclsConv on a GPU against the same layer on the CPU, with the CPU tests' tolerance (1e-4 of the
 * largest value) and TF32 off: random configurations (those of {@link NativeVsReferenceTest}), AdamW
 * training, inference mode, plan caching, checkpoints, and the device checks of a GPU layer.
 */
class GpuLayerTest {

    private static DclsConv.Builder builder(Case c) {
        return DclsConv.builder(c.inChannels(), c.outChannels()).kernelCount(c.kernelCount()).dilatedKernelSize(c.dks())
                .stride(c.stride()).padding(c.padding()).groups(c.groups()).bias(c.bias())
                .interpolation(c.interpolation()).paddingMode(c.mode()).seed(c.seed());
    }

    private static float[] random(SplittableRandom r, long n) {
        return NativeVsReferenceTest.random(r, Math.toIntExact(n));
    }

    /** Every parameter of {@code from} copied into {@code to} (any devices). */
    private static void copyParameters(DclsConv from, DclsConv to) {
        for (int i = 0; i < from.parameters().size(); i++) {
            to.parameters().get(i).value().copyFrom(from.parameters().get(i).value());
        }
    }

    private static void closeTo(String what, Tensor expected, Tensor actual) {
        close(what, toDouble(expected.toFloatArray()), actual.toFloatArray());
    }

    static void assertSameParameters(String what, DclsConv expected, DclsConv actual, boolean exact) {
        assertEquals(expected.parameters().size(), actual.parameters().size());
        for (int i = 0; i < expected.parameters().size(); i++) {
            Parameter e = expected.parameters().get(i);
            Parameter a = actual.parameters().get(i);
            if (exact) {
                assertArrayEquals(e.value().toFloatArray(), a.value().toFloatArray(), what + " " + e.name());
            } else {
                closeTo(what + " " + e.name(), e.value(), a.value());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.dcls4j.NativeVsReferenceTest#seeds")
    void layerOnTheGpuMatchesTheCpu(int seed) {
        Case c = NativeVsReferenceTest.randomCase(seed);
        assumeGpu();
        SplittableRandom r = new SplittableRandom(seed);
        try (Arena arena = Arena.ofConfined();
             DclsConv cpu = builder(c).build();
             DclsConv gpu = builder(c).device(GPU).build()) {
            assertEquals(GPU, gpu.device());
            assertFalse(gpu.cudaTf32());
            // one seed, one layer: the GPU layer draws its initial values on the host
            assertSameParameters("initial", cpu, gpu, true);

            // positions spread beyond the grid, or all near the centre, as NativeVsReferenceTest does
            boolean concentrated = seed >= NativeVsReferenceTest.CONCENTRATED;
            Tensor p = cpu.positions().value();
            long perComponent = p.elementCount() / c.ndim();
            for (long i = 0; i < p.elementCount(); i++) {
                double half = concentrated ? 0 : c.dks()[(int) (i / perComponent)] / 2.0;
                p.set(i, (float) r.nextDouble(-half - 1.5, half + 1.5));
            }
            if (cpu.sigma() != null) {
                Tensor s = cpu.sigma().value();
                double range = concentrated ? 0.3 : 1.5;
                for (long i = 0; i < s.elementCount(); i++) {
                    s.set(i, (float) r.nextDouble(-range, range));
                }
            }
            copyParameters(cpu, gpu);

            long[] xShape = new long[2 + c.ndim()];
            xShape[0] = c.batch();
            xShape[1] = c.inChannels();
            for (int d = 0; d < c.ndim(); d++) {
                xShape[2 + d] = c.inputSize()[d];
            }
            Tensor x = Tensor.allocate(arena, xShape);
            x.copyFrom(random(r, x.elementCount()));
            Tensor gpuX = x.to(arena, GPU);

            Tensor y = cpu.forward(x);
            Tensor gpuY = gpu.forward(gpuX);
            assertEquals(GPU, gpuY.device());
            closeTo("kernel", cpu.kernel(), gpu.kernel());
            closeTo("y", y, gpuY);

            Tensor gy = Tensor.allocate(arena, y.shape());
            gy.copyFrom(random(r, gy.elementCount()));
            Tensor gx = cpu.backward(gy);
            Tensor gpuGx = gpu.backward(gy.to(arena, GPU));
            assertEquals(GPU, gpuGx.device());
            closeTo("grad_x", gx, gpuGx);
            for (int i = 0; i < cpu.parameters().size(); i++) {
                Parameter e = cpu.parameters().get(i);
                closeTo("grad_" + e.name(), e.grad(), gpu.parameters().get(i).grad());
            }

            // a second pass accumulates the parameter gradients, as on the CPU
            cpu.forward(x);
            cpu.backward(gy);
            gpu.forward(gpuX);
            gpu.backward(gy.to(arena, GPU));
            for (int i = 0; i < cpu.parameters().size(); i++) {
                Parameter e = cpu.parameters().get(i);
                closeTo("accumulated grad_" + e.name(), e.grad(), gpu.parameters().get(i).grad());
            }
            gpu.zeroGrad();
            for (Parameter q : gpu.parameters()) {
                assertArrayEquals(new float[(int) q.grad().elementCount()], q.grad().toFloatArray(), q.name());
            }
        }
    }

    /**
     * A layer's plans take its kernel cells on the GPU as on the CPU: the cells' box as a kernel window (sparse mode
     * NEVER) or the tap-sparse engine on every pass (ALWAYS), as the plan's info says, with the CPU layer's output and
     * gradients. Learnable delays (1D, groups 1, two Gaussian elements per pair on a long axis) and a depthwise 2D
     * bilinear layer, positions near the centre so that the box is narrower than the kernel.
     */
    @ParameterizedTest(name = "sparse mode {0}, {1}")
    @CsvSource({"1, delays", "2, delays", "1, depthwise", "2, depthwise"})
    void aGpuLayerTakesItsKernelCellsAsTheCpuLayer(int sparseMode, String kind) {
        assumeGpu();
        boolean delays = kind.equals("delays");
        SplittableRandom r = new SplittableRandom(sparseMode * 31L + kind.length());
        DclsConv.Builder b = delays
                ? DclsConv.builder(3, 4).kernelCount(2).dilatedKernelSize(41).padding(20)
                        .interpolation(Interpolation.GAUSSIAN)
                : DclsConv.builder(4, 4).groups(4).kernelCount(3).dilatedKernelSize(9, 9).padding(4, 4)
                        .interpolation(Interpolation.BILINEAR);
        CudaContext context = CudaContext.of(GPU.index());
        context.setSparseMode(sparseMode);
        try (Arena arena = Arena.ofConfined();
             DclsConv cpu = b.seed(5).build();
             DclsConv gpu = b.seed(5).device(GPU).build()) {
            Tensor p = cpu.positions().value();
            for (long i = 0; i < p.elementCount(); i++) {
                p.set(i, (float) r.nextDouble(delays ? -6 : -1, delays ? 6 : 1));
            }
            if (cpu.sigma() != null) {
                Tensor s = cpu.sigma().value();
                for (long i = 0; i < s.elementCount(); i++) {
                    s.set(i, (float) r.nextDouble(-0.1, 0.1));
                }
            }
            copyParameters(cpu, gpu);
            long[] xShape = delays ? new long[] {2, 3, 90} : new long[] {2, 4, 12, 13};
            Tensor x = Tensor.allocate(arena, xShape);
            x.copyFrom(random(r, x.elementCount()));
            Tensor y = cpu.forward(x);
            Tensor gpuY = gpu.forward(x.to(arena, GPU));
            String info = gpu.engineInfo();
            assertTrue(info.contains("window="), info);
            assertEquals(sparseMode == dcls_h.DCLS_CUDA_SPARSE_ALWAYS() ? 3 : 0,
                    info.split("dcls:sparse\\(", -1).length - 1, info);
            closeTo("y", y, gpuY);
            Tensor gy = Tensor.allocate(arena, y.shape());
            gy.copyFrom(random(r, gy.elementCount()));
            closeTo("grad_x", cpu.backward(gy), gpu.backward(gy.to(arena, GPU)));
            for (int i = 0; i < cpu.parameters().size(); i++) {
                Parameter e = cpu.parameters().get(i);
                closeTo("grad_" + e.name(), e.grad(), gpu.parameters().get(i).grad());
            }
        } finally {
            context.setSparseMode(dcls_h.DCLS_CUDA_SPARSE_AUTO());
        }
    }

    /**
     * A transposed layer on the GPU, whose plan now takes the kernel window of its positions (near the centre: a box
     * narrower than the kernel), against the CPU layer: output, input and parameter gradients.
     */
    @Test
    void aTransposedLayerWithAKernelWindowOnTheGpuMatchesTheCpu() {
        assumeGpu();
        SplittableRandom r = new SplittableRandom(17);
        DclsConvTranspose.Builder b = DclsConvTranspose.builder(2, 3).kernelCount(2).dilatedKernelSize(9, 9).stride(2)
                .padding(4).interpolation(Interpolation.BILINEAR).seed(3);
        try (Arena arena = Arena.ofConfined();
             DclsConvTranspose cpu = b.build();
             DclsConvTranspose gpu = b.device(GPU).build()) {
            Tensor p = cpu.positions().value();
            for (long i = 0; i < p.elementCount(); i++) {
                p.set(i, (float) r.nextDouble(-1.5, 1.5));
            }
            for (int i = 0; i < cpu.parameters().size(); i++) {
                gpu.parameters().get(i).value().copyFrom(cpu.parameters().get(i).value());
            }
            Tensor x = Tensor.allocate(arena, 2, 2, 6, 7);
            x.copyFrom(random(r, x.elementCount()));
            Tensor y = cpu.forward(x);
            closeTo("y", y, gpu.forward(x.to(arena, GPU)));
            Tensor gy = Tensor.allocate(arena, y.shape());
            gy.copyFrom(random(r, gy.elementCount()));
            closeTo("grad_x", cpu.backward(gy), gpu.backward(gy.to(arena, GPU)));
            for (int i = 0; i < cpu.parameters().size(); i++) {
                Parameter e = cpu.parameters().get(i);
                closeTo("grad_" + e.name(), e.grad(), gpu.parameters().get(i).grad());
            }
        }
    }

    /** A few AdamW steps (groups, schedule, clamping) give the CPU's parameters and optimizer state. */
    @Test
    void adamWTrainingOnTheGpuMatchesTheCpu() {
        List<DclsConv.Builder> configs = List.of(
                // depthwise 2D, Gaussian: dcls4j's kernels, cuDNN not needed
                DclsConv.builder(4, 4).groups(4).kernelCount(3).dilatedKernelSize(9, 7).padding(4, 3)
                        .interpolation(Interpolation.GAUSSIAN).seed(5),
                // dense 1D with stride and reflect padding, learned-width triangle
                DclsConv.builder(3, 5).kernelCount(2).dilatedKernelSize(11).padding(5).stride(2)
                        .paddingMode(PaddingMode.REFLECT).interpolation(Interpolation.TRIANGLE_LEARNED_WIDTH).seed(6));
        for (DclsConv.Builder b : configs) {
            try (DclsConv probe = b.build()) {
                assumeGpu();
            }
            try (Arena arena = Arena.ofConfined();
                 DclsConv cpu = b.device(Device.cpu()).build();
                 DclsConv gpu = b.device(GPU).build();
                 AdamW cpuOpt = adamW(cpu);
                 AdamW gpuOpt = adamW(gpu)) {
                SplittableRandom r = new SplittableRandom(17);
                long[] xShape = cpu.ndim() == 2 ? new long[] {2, 4, 12, 10} : new long[] {2, 3, 20};
                for (int step = 0; step < 6; step++) {
                    Tensor x = Tensor.allocate(arena, xShape).copyFrom(random(r, product(xShape)));
                    Tensor y = cpu.forward(x);
                    gpu.forward(x.to(arena, GPU));
                    Tensor gy = Tensor.allocate(arena, y.shape()).copyFrom(random(r, y.elementCount()));
                    cpu.backward(gy);
                    gpu.backward(gy.to(arena, GPU));
                    cpuOpt.step();
                    gpuOpt.step();
                    cpuOpt.zeroGrad();
                    gpuOpt.zeroGrad();
                    assertSameParameters(cpu + " step " + step, cpu, gpu, false);
                }
                for (int i = 0; i < cpu.parameters().size(); i++) {
                    for (String s : cpuOpt.stateNames()) {
                        Tensor e = cpuOpt.state(cpu.parameters().get(i), s);
                        Tensor a = gpuOpt.state(gpu.parameters().get(i), s);
                        assertEquals(GPU, a.device(), "the optimizer state lives with its parameter");
                        closeTo(s + " of " + cpu.parameters().get(i).name(), e, a);
                    }
                    float[] g = gpu.parameters().get(i).grad().toFloatArray();
                    assertArrayEquals(new float[g.length], g, "zeroGrad cleared the GPU gradient");
                }
                float lim = cpu.dilatedKernelSize()[0] / 2;
                for (float v : gpu.positions().value().toFloatArray()) {
                    assertTrue(Math.abs(v) <= lim, "positions clamped: " + v);
                }
            }
        }
    }

    private static AdamW adamW(DclsConv conv) {
        return AdamW.builder().lr(0.05).weightDecay(0.05).groups(ParamGroup.dcls(5, conv))
                .schedule(LrSchedule.cosine(0.05, 2, 6, 1e-3)).clampPositions(conv).build();
    }

    private static long product(long[] shape) {
        return NativeVsReferenceTest.product(shape);
    }

    @Test
    void inferenceModeOnTheGpuMatchesTheCpu() {
        DclsConv.Builder b = DclsConv.builder(3, 3).groups(3).kernelCount(4).dilatedKernelSize(7, 9).padding(3, 4)
                .interpolation(Interpolation.GAUSSIAN).seed(9);
        assumeGpu();
        try (Arena arena = Arena.ofConfined();
             DclsConv cpu = b.build();
             DclsConv gpu = b.device(GPU).build()) {
            Tensor x = Tensor.allocate(arena, 1, 3, 10, 11).copyFrom(random(new SplittableRandom(3), 330));
            for (boolean round : new boolean[] {false, true}) {
                cpu.inferenceMode(round);
                gpu.inferenceMode(round);
                closeTo("inference kernel, round " + round, cpu.kernel(), gpu.kernel());
                closeTo("inference y, round " + round, cpu.forward(x), gpu.forward(x.to(arena, GPU)));
                fails(IllegalStateException.class, "inference mode",
                        () -> gpu.backward(Tensor.allocate(arena, GPU, 1, 3, 10, 11)));
            }
            gpu.trainingMode();
            cpu.trainingMode();
            closeTo("training y", cpu.forward(x), gpu.forward(x.to(arena, GPU)));
        }
    }

    /** Shared positions, a sigma schedule and a frozen sigma behave on the GPU as on the CPU. */
    @Test
    void sharedPositionsAndScheduledSigmaOnTheGpu() {
        DclsConv.Builder b = DclsConv.builder(3, 3).groups(3).kernelCount(2).dilatedKernelSize(7, 5).padding(3, 2)
                .interpolation(Interpolation.GAUSSIAN);
        assumeGpu();
        try (Arena arena = Arena.ofConfined();
             DclsConv cpuOwner = b.seed(1).build();
             DclsConv cpuSharer = b.seed(2).sharePositionsWith(cpuOwner).build();
             DclsConv gpuOwner = b.seed(1).sharePositionsWith(null).device(GPU).build();
             DclsConv gpuSharer = b.seed(2).sharePositionsWith(gpuOwner).build()) {
            SigmaSchedule schedule = SigmaSchedule.fromKernelSize(cpuOwner, 0.23, 10);
            schedule.apply(cpuOwner, 4);
            schedule.apply(gpuOwner, 4);
            closeTo("scheduled sigma", cpuOwner.sigma().value(), gpuSharer.sigma().value());
            cpuSharer.freezeSigma(true);
            gpuSharer.freezeSigma(true);
            SplittableRandom r = new SplittableRandom(2);
            Tensor x = Tensor.allocate(arena, 2, 3, 9, 8).copyFrom(random(r, 2 * 3 * 72));
            Tensor gy = Tensor.allocate(arena, 2, 3, 9, 8).copyFrom(random(r, 2 * 3 * 72));
            for (DclsConv[] pair : new DclsConv[][] {{cpuOwner, gpuOwner}, {cpuSharer, gpuSharer}}) {
                closeTo("y " + pair[0], pair[0].forward(x), pair[1].forward(x.to(arena, GPU)));
                closeTo("grad_x " + pair[0], pair[0].backward(gy), pair[1].backward(gy.to(arena, GPU)));
                closeTo("grad_weight " + pair[0], pair[0].weight().grad(), pair[1].weight().grad());
            }
            closeTo("shared grad_P", cpuOwner.positions().grad(), gpuOwner.positions().grad());
            closeTo("shared grad_SIG (one user frozen)", cpuOwner.sigma().grad(), gpuOwner.sigma().grad());
        }
    }

    /** More input shapes than the layer caches: plans are evicted and rebuilt, results stay right. */
    @Test
    void manyInputShapesOnTheGpu() {
        DclsConv.Builder b = DclsConv.builder(2, 2).groups(2).kernelCount(2).dilatedKernelSize(5).padding(2)
                .paddingMode(PaddingMode.CIRCULAR).seed(4);
        assumeGpu();
        try (Arena arena = Arena.ofConfined();
             DclsConv cpu = b.build();
             DclsConv gpu = b.device(GPU).build()) {
            SplittableRandom r = new SplittableRandom(8);
            for (int length : new int[] {6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 6, 7}) {
                Tensor x = Tensor.allocate(arena, 1, 2, length).copyFrom(random(r, 2L * length));
                closeTo("y, length " + length, cpu.forward(x), gpu.forward(x.to(arena, GPU)));
            }
        }
    }

    @Test
    void aGpuLayerRefusesHostTensorsNamingBothDevices() {
        assumeGpu();
        try (Arena arena = Arena.ofConfined();
             DclsConv gpu = DclsConv.builder(2, 2).groups(2).kernelCount(2).dilatedKernelSize(5).padding(2)
                     .device(GPU).build()) {
            fails(IllegalArgumentException.class, "x is on cpu, but this layer is on cuda:0",
                    () -> gpu.forward(Tensor.allocate(arena, 1, 2, 8)));
            fails(IllegalArgumentException.class, "x is on cpu, but this layer is on cuda:0",
                    () -> gpu.forward(Tensor.allocatePinned(arena, GPU, 1, 2, 8)));
            gpu.forward(Tensor.allocate(arena, GPU, 1, 2, 8));
            fails(IllegalArgumentException.class, "gradY is on cpu, but this layer is on cuda:0",
                    () -> gpu.backward(Tensor.allocate(arena, 1, 2, 8)));
            fails(IllegalStateException.class, "segment() on a tensor on cuda:0",
                    () -> gpu.weight().value().segment());
        }
    }

    /** A GPU layer and its optimizer saved, loaded into a CPU layer, and back. */
    @Test
    void checkpointsMoveBetweenDevices(@TempDir Path dir) throws Exception {
        DclsConv.Builder b = DclsConv.builder(2, 4).groups(2).kernelCount(2).dilatedKernelSize(5, 5).padding(2)
                .seed(3);
        try (DclsConv probe = b.build()) {
            assumeGpu();
        }
        Path file = dir.resolve("gpu.safetensors");
        try (Arena arena = Arena.ofConfined();
             DclsConv gpu = b.device(GPU).build();
             AdamW gpuOpt = adamW(gpu);
             DclsConv cpu = b.device(Device.cpu()).seed(99).build();
             AdamW cpuOpt = adamW(cpu);
             DclsConv gpu2 = b.device(GPU).seed(100).build()) {
            Tensor x = Tensor.allocate(arena, GPU, 1, 2, 7, 7).copyFrom(random(new SplittableRandom(1), 98));
            Tensor y = gpu.forward(x);
            gpu.backward(Tensor.allocate(arena, GPU, y.shape()).fill(1f));
            gpuOpt.step();
            Checkpoint.save(file, Map.of("conv", gpu), gpuOpt);

            Checkpoint.load(file, Map.of("conv", cpu), cpuOpt);
            assertSameParameters("loaded on the CPU", gpu, cpu, true);
            assertEquals(1, cpuOpt.steps());
            Checkpoint.load(file, Map.of("conv", gpu2), null);
            assertSameParameters("loaded on the GPU", gpu, gpu2, true);
        }
    }

    @Test
    void tf32IsAnExplicitSwitch() {
        DclsConv.Builder b = DclsConv.builder(8, 8).kernelCount(3).dilatedKernelSize(5, 5).padding(2).seed(2);
        assumeGpu();
        try (Arena arena = Arena.ofConfined();
             DclsConv cpu = b.build();
             DclsConv tf32 = b.device(GPU).cudaTf32(true).build()) {
            assertTrue(tf32.cudaTf32());
            assertFalse(cpu.cudaTf32());
            Tensor x = Tensor.allocate(arena, 2, 8, 12, 12).copyFrom(random(new SplittableRandom(5), 2 * 8 * 144));
            // TF32 keeps 10 mantissa bits: about 1e-3 relative error
            close("y with TF32", toDouble(cpu.forward(x).toFloatArray()), tf32.forward(x.to(arena, GPU)).toFloatArray(),
                    1e-2);
        }
    }
}
