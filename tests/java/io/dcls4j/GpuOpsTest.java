package io.dcls4j;

import io.dcls4j.ffi.dcls_h;
import io.dcls4j.internal.CudaContext;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;
import io.dcls4j.ops.Convolution;
import io.dcls4j.ops.KernelConstruction;
import io.dcls4j.ops.KernelWindow;
import io.dcls4j.ops.Positions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static io.dcls4j.BadInputTest.fails;
import static io.dcls4j.Compare.close;
import static io.dcls4j.Compare.toDouble;
import static io.dcls4j.GpuSupport.GPU;
import static io.dcls4j.GpuSupport.assumeGpu;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The functional ops, {@link KernelConstruction} and {@link Convolution}, on CUDA tensors against the same ops on
 * host tensors: every pass of the construction and of a plan, and a GPU plan told kernel windows and cells. A depthwise shape, which runs without cuDNN (dcls4j's own CUDA kernels), so that
 * the build's CUDA emulation runs it too.
 */
class GpuOpsTest {

    private static final ConstructConfig CONSTRUCT = new ConstructConfig(Interpolation.GAUSSIAN, 6, 1, 3,
            new int[] {5, 7});
    private static final ConvConfig CONV = new ConvConfig(2, 6, 6, 6, new int[] {9, 11}, new int[] {5, 7},
            new int[] {1, 2}, new int[] {2, 3}, PaddingMode.ZEROS);

    private static float[] random(SplittableRandom r, long n, double scale) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
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

    /** The same values on the host and on the GPU. */
    private record Pair(Tensor host, Tensor gpu) {
        static Pair of(Arena arena, long[] shape, float[] values) {
            Tensor h = Tensor.allocate(arena, shape);
            Tensor g = Tensor.allocate(arena, GPU, shape);
            if (values != null) {
                h.copyFrom(values);
                g.copyFrom(values);
            }
            return new Pair(h, g);
        }

        void assertClose(String what) {
            close(what, toDouble(host.toFloatArray()), gpu.toFloatArray());
        }
    }

    @Test
    void constructionAndEveryPassOnCudaTensorsMatchTheCpu() {
        assumeGpu();
        SplittableRandom r = new SplittableRandom(7);
        KernelConstruction k = new KernelConstruction(CONSTRUCT);
        try (Arena arena = Arena.ofConfined();
             Convolution cpu = new Convolution(CONV);
             Convolution gpu = new Convolution(CONV, GPU, false)) {
            assertEquals(GPU, gpu.device());
            Pair weight = Pair.of(arena, k.weightShape(), random(r, count(k.weightShape()), 1));
            Pair positions = Pair.of(arena, k.positionShape(), random(r, count(k.positionShape()), 2.5));
            Pair sigma = Pair.of(arena, k.positionShape(), random(r, count(k.positionShape()), 0.6));
            Pair kernel = Pair.of(arena, k.kernelShape(), null);
            k.forward(weight.host(), positions.host(), sigma.host(), kernel.host());
            k.forward(weight.gpu(), positions.gpu(), sigma.gpu(), kernel.gpu());
            kernel.assertClose("kernel");

            Pair x = Pair.of(arena, CONV.inputShape(), random(r, count(CONV.inputShape()), 1));
            Pair bias = Pair.of(arena, new long[] {CONV.outChannels()}, random(r, CONV.outChannels(), 1));
            Pair y = Pair.of(arena, CONV.outputShape(), null);
            cpu.forward(x.host(), kernel.host(), bias.host(), y.host());
            gpu.forward(x.gpu(), kernel.gpu(), bias.gpu(), y.gpu());
            y.assertClose("y");

            Pair gradY = Pair.of(arena, CONV.outputShape(), random(r, count(CONV.outputShape()), 1));
            Pair gradX = Pair.of(arena, CONV.inputShape(), null);
            cpu.backwardData(gradY.host(), kernel.host(), gradX.host());
            gpu.backwardData(gradY.gpu(), kernel.gpu(), gradX.gpu());
            gradX.assertClose("gradX");

            Pair gradKernel = Pair.of(arena, k.kernelShape(), null);
            Pair gradBias = Pair.of(arena, new long[] {CONV.outChannels()}, null);
            cpu.backwardWeights(x.host(), gradY.host(), gradKernel.host(), gradBias.host(), false);
            gpu.backwardWeights(x.gpu(), gradY.gpu(), gradKernel.gpu(), gradBias.gpu(), false);
            gradKernel.assertClose("gradKernel");
            gradBias.assertClose("gradBias");

            Pair gradWeight = Pair.of(arena, k.weightShape(), null);
            Pair gradPositions = Pair.of(arena, k.positionShape(), null);
            Pair gradSigma = Pair.of(arena, k.positionShape(), null);
            k.backward(weight.host(), positions.host(), sigma.host(), gradKernel.host(), gradWeight.host(),
                    gradPositions.host(), gradSigma.host(), false);
            k.backward(weight.gpu(), positions.gpu(), sigma.gpu(), gradKernel.gpu(), gradWeight.gpu(),
                    gradPositions.gpu(), gradSigma.gpu(), false);
            gradWeight.assertClose("gradWeight");
            gradPositions.assertClose("gradPositions");
            gradSigma.assertClose("gradSigma");
        }
    }

    /**
     * Kernel windows and cells on a GPU plan, against the CPU plan told the same: the window of the construction's
     * cells, the plan's info naming the window (sparse mode NEVER) or the tap-sparse engine (ALWAYS), and every pass,
     * the kernel gradient through the construction's backward (which reads only the cells).
     */
    @ParameterizedTest(name = "sparse mode {0}")
    @ValueSource(ints = {1, 2})
    void aGpuPlanTakesWindowsAndCellsAsTheCpuPlanDoes(int sparseMode) {
        assumeGpu();
        assertEquals(dcls_h.DCLS_CUDA_SPARSE_NEVER(), 1);
        assertEquals(dcls_h.DCLS_CUDA_SPARSE_ALWAYS(), 2);
        SplittableRandom r = new SplittableRandom(13);
        ConstructConfig bilinear = new ConstructConfig(Interpolation.BILINEAR, 6, 1, 3, new int[] {5, 7});
        KernelConstruction k = new KernelConstruction(bilinear);
        CudaContext context = CudaContext.of(GPU.index());
        try (Arena arena = Arena.ofConfined();
             Convolution cpu = new Convolution(CONV);
             Convolution gpu = new Convolution(CONV, GPU, false)) {
            Pair weight = Pair.of(arena, k.weightShape(), random(r, count(k.weightShape()), 1));
            // near the centre: the cells' box is narrower than the kernel on both axes
            Pair positions = Pair.of(arena, k.positionShape(), random(r, count(k.positionShape()), 0.8));
            KernelWindow onHost = new KernelWindow(5, 7);
            KernelWindow onGpu = new KernelWindow(5, 7);
            k.window(positions.host(), null, onHost);
            k.window(positions.gpu(), null, onGpu);
            for (int d = 0; d < 2; d++) {
                assertEquals(onHost.lo(d), onGpu.lo(d), onGpu + " vs " + onHost);
                assertEquals(onHost.hi(d), onGpu.hi(d), onGpu + " vs " + onHost);
            }
            assertTrue(onGpu.hi(0) - onGpu.lo(0) < 5 && onGpu.hi(1) - onGpu.lo(1) < 7, onGpu.toString());
            gpu.setKernelWindow(onGpu);
            assertTrue(gpu.engineInfo().contains("window="), gpu.engineInfo());

            context.setSparseMode(sparseMode);
            try {
                assertTrue(gpu.setKernelCells(k, positions.gpu(), null, true));
            } finally {
                context.setSparseMode(dcls_h.DCLS_CUDA_SPARSE_AUTO());
            }
            assertTrue(cpu.setKernelCells(k, positions.host(), null, true));
            String info = gpu.engineInfo();
            assertTrue(info.contains("window="), info);
            assertEquals(sparseMode == dcls_h.DCLS_CUDA_SPARSE_ALWAYS() ? 3 : 0, info.split("dcls:sparse\\(", -1).length - 1,
                    info);

            Pair kernel = Pair.of(arena, k.kernelShape(), null);
            k.forward(weight.host(), positions.host(), null, kernel.host());
            k.forward(weight.gpu(), positions.gpu(), null, kernel.gpu());
            Pair x = Pair.of(arena, CONV.inputShape(), random(r, count(CONV.inputShape()), 1));
            Pair bias = Pair.of(arena, new long[] {CONV.outChannels()}, random(r, CONV.outChannels(), 1));
            Pair y = Pair.of(arena, CONV.outputShape(), null);
            cpu.forward(x.host(), kernel.host(), bias.host(), y.host());
            gpu.forward(x.gpu(), kernel.gpu(), bias.gpu(), y.gpu());
            y.assertClose("y");
            Pair gradY = Pair.of(arena, CONV.outputShape(), random(r, count(CONV.outputShape()), 1));
            Pair gradX = Pair.of(arena, CONV.inputShape(), null);
            cpu.backwardData(gradY.host(), kernel.host(), gradX.host());
            gpu.backwardData(gradY.gpu(), kernel.gpu(), gradX.gpu());
            gradX.assertClose("gradX");
            Pair gradKernel = Pair.of(arena, k.kernelShape(), random(r, count(k.kernelShape()), 1));
            Pair gradBias = Pair.of(arena, new long[] {CONV.outChannels()}, null);
            cpu.backwardWeights(x.host(), gradY.host(), gradKernel.host(), gradBias.host(), false);
            gpu.backwardWeights(x.gpu(), gradY.gpu(), gradKernel.gpu(), gradBias.gpu(), false);
            gradBias.assertClose("gradBias");
            Pair gradWeight = Pair.of(arena, k.weightShape(), null);
            Pair gradPositions = Pair.of(arena, k.positionShape(), null);
            k.backward(weight.host(), positions.host(), null, gradKernel.host(), gradWeight.host(),
                    gradPositions.host(), null, false);
            k.backward(weight.gpu(), positions.gpu(), null, gradKernel.gpu(), gradWeight.gpu(), gradPositions.gpu(),
                    null, false);
            gradWeight.assertClose("gradWeight");
            gradPositions.assertClose("gradPositions");
        }
    }

    /** The CPU's engine option "sparse_conv" reaches the CUDA plans too (at their next setKernelCells). */
    @Test
    void theSparseConvEngineOptionReachesGpuPlans() {
        assumeGpu();
        ConstructConfig bilinear = new ConstructConfig(Interpolation.BILINEAR, 6, 1, 3, new int[] {5, 7});
        KernelConstruction k = new KernelConstruction(bilinear);
        try (Arena arena = Arena.ofConfined();
             Convolution gpu = new Convolution(CONV, GPU, false)) {
            Tensor positions = Tensor.allocate(arena, GPU, k.positionShape()).fill(0.25f);
            for (String value : new String[] {"always", "never", "always"}) {
                Dcls.setEngineOption("sparse_conv", value);
                try {
                    assertTrue(gpu.setKernelCells(k, positions, null, true));
                } finally {
                    Dcls.setEngineOption("sparse_conv", "auto");
                }
                String info = gpu.engineInfo();
                assertEquals(value.equals("always") ? 3 : 0, info.split("dcls:sparse\\(", -1).length - 1, info);
            }
        }
    }

    @Test
    void positionUpkeepOnCudaTensorsMatchesTheCpu() {
        assumeGpu();
        KernelConstruction k = new KernelConstruction(CONSTRUCT);
        Positions ops = new Positions(CONSTRUCT.dilatedKernelSize(), k.positionShape());
        SplittableRandom r = new SplittableRandom(11);
        float[] values = random(r, count(k.positionShape()), 6);
        values[0] = 2.5f;
        values[1] = -0.5f;
        values[2] = Float.NaN;
        try (Arena arena = Arena.ofConfined()) {
            Pair p = Pair.of(arena, k.positionShape(), values);
            ops.clamp(p.host());
            ops.clamp(p.gpu());
            assertArrayEquals(p.host().toFloatArray(), p.gpu().toFloatArray());
            Pair rounded = Pair.of(arena, k.positionShape(), null);
            ops.round(p.host(), rounded.host());
            ops.round(p.gpu(), rounded.gpu());
            assertArrayEquals(rounded.host().toFloatArray(), rounded.gpu().toFloatArray());
        }
    }

    @Test
    void everyTensorOfACallIsOnOneDevice() {
        assumeGpu();
        KernelConstruction k = new KernelConstruction(CONSTRUCT);
        try (Arena arena = Arena.ofConfined();
             Convolution gpu = new Convolution(CONV, GPU, false)) {
            Tensor w = Tensor.allocate(arena, GPU, k.weightShape());
            Tensor p = Tensor.allocate(arena, GPU, k.positionShape());
            fails(IllegalArgumentException.class, "kernel is on cpu, expected cuda:0",
                    () -> k.forward(w, p, p, Tensor.allocate(arena, k.kernelShape())));
            fails(IllegalArgumentException.class, "x is on cpu, expected cuda:0", () -> gpu.forward(
                    Tensor.allocate(arena, CONV.inputShape()), Tensor.allocate(arena, GPU, k.kernelShape()), null,
                    Tensor.allocate(arena, GPU, CONV.outputShape())));
            fails(IllegalArgumentException.class, "positions is on cpu, expected cuda:0",
                    () -> gpu.setKernelCells(k, Tensor.allocate(arena, k.positionShape()), p, false));
        }
    }
}
