package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Interpolation;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.internal.Cuda;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.Map;
import java.util.SplittableRandom;

import static io.dcls4j.Compare.close;
import static io.dcls4j.Compare.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A ConvNeXt block on CUDA, where its LayerNorm and GELU are fused into the pointwise GEMMs ({@link FusedNormMlp}),
 * against the same block on the CPU, where it runs unfused (LayerNorm, Linear, Gelu, Linear on oneDNN): that each
 * device runs the path it says, then the output, the input gradient and every parameter gradient, the norm's
 * included (accumulated over two backward passes; the norm's weight and bias set away from ones and zeros, so that
 * the fused normalisation's affine part counts), and the parameter names and order of the block and of a whole
 * model, which the fusion must not change. Runs on a GPU, and over the build's CUDA emulation; skipped where there
 * is no CUDA device.
 */
class GpuConvNeXtBlockTest {
    private static final Device GPU = Device.cuda(0);

    private static void needsCuda() {
        Assumptions.assumeTrue(Device.cudaAvailable(), () -> "no CUDA device: " + Cuda.noDeviceReason());
    }

    /** A block with a dense 3x3 depthwise convolution: dim channels, hidden 4 dim, layer scale, no drop path. */
    private static ConvNeXtBlock block(int dim, Device d) {
        Conv dw = new Conv(dim, dim, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}, dim, true,
                7, d);
        return new ConvNeXtBlock(dw, dim, 0.5, 0, 9, d);
    }

    private static float[] random(SplittableRandom r, long n) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 4 - 2);
        }
        return v;
    }

    @Test
    void theDevicesChooseTheirPaths() {
        assertFalse(ConvNeXtBlock.fusesNormMlp(Device.cpu()), "the CPU keeps LayerNorm, Linear, Gelu, Linear");
        assertTrue(ConvNeXtBlock.fusesNormMlp(GPU), "CUDA fuses the LayerNorm and GELU into the pointwise GEMMs");
        try (ConvNeXtBlock cpu = block(4, Device.cpu())) {
            assertFalse(cpu.runsFusedNormMlp(), "a CPU block runs unfused");
        }
    }

    @Test
    void theFusedModuleIsRefusedOffCuda() {
        try (LayerNorm n = new LayerNorm(4, 1e-6); Linear a = new Linear(4, 16, true, 1);
             Linear b = new Linear(16, 4, true, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new FusedNormMlp(n, a, b, Device.cpu()));
            assertTrue(e.getMessage().contains("CUDA"), e.getMessage());
        }
    }

    /** 24 channels, 96 hidden, 2 x 25 positions: no GEMM dimension a multiple of the 64-wide tiles. */
    @Test
    void aFusedCudaBlockMatchesTheUnfusedCpuBlock() {
        needsCuda();
        long[] shape = {2, 24, 5, 5};
        SplittableRandom r = new SplittableRandom(17);
        try (Arena arena = Arena.ofConfined(); ConvNeXtBlock cpu = block(24, Device.cpu());
             ConvNeXtBlock gpu = block(24, GPU)) {
            assertTrue(gpu.runsFusedNormMlp(), "the CUDA block runs the fused path");
            assertFalse(cpu.runsFusedNormMlp(), "the CPU block runs the unfused path");
            assertEquals(new ArrayList<>(cpu.namedParameters().keySet()),
                    new ArrayList<>(gpu.namedParameters().keySet()), "parameter names, in order");
            for (String name : new String[] {"norm.weight", "norm.bias"}) {
                float[] v = random(r, 24);
                cpu.namedParameters().get(name).value().copyFrom(v);
                gpu.namedParameters().get(name).value().copyFrom(v);
            }

            float[] xv = random(r, 2 * 24 * 5 * 5);
            Tensor yc = cpu.forward(Tensor.allocate(arena, shape).copyFrom(xv));
            Tensor yg = gpu.forward(Tensor.allocate(arena, GPU, shape).copyFrom(xv));
            close("block y", toDouble(yc.toFloatArray()), yg.toFloatArray());

            float[] gv = random(r, yc.elementCount());
            Tensor gc = Tensor.allocate(arena, shape).copyFrom(gv);
            Tensor gg = Tensor.allocate(arena, GPU, shape).copyFrom(gv);
            cpu.zeroGrad();
            gpu.zeroGrad();
            cpu.backward(gc);
            gpu.backward(gg);
            Tensor gxc = cpu.backward(gc); // twice: parameter gradients accumulate
            Tensor gxg = gpu.backward(gg);
            close("block gradX", toDouble(gxc.toFloatArray()), gxg.toFloatArray());
            Iterator<Parameter> ig = gpu.namedParameters().values().iterator();
            for (var e : cpu.namedParameters().entrySet()) {
                Parameter q = ig.next();
                assertEquals(GPU, q.grad().device(), e.getKey() + " is on the GPU");
                close("block grad " + e.getKey(), toDouble(e.getValue().grad().toFloatArray()),
                        q.grad().toFloatArray());
            }
            cpu.zeroGrad();
            gpu.zeroGrad();
            assertEquals(0f, gpu.namedParameters().get("pwconv1.weight").grad().toFloatArray()[0],
                    "zeroGrad reaches the fused layers' parameters");
            assertEquals(0f, gpu.namedParameters().get("norm.weight").grad().toFloatArray()[0],
                    "zeroGrad reaches the fused norm's parameters");
        }
    }

    @Test
    void aNormOfOtherChannelsIsRefused() {
        needsCuda();
        try (LayerNorm n = new LayerNorm(5, 1e-6, GPU); Linear a = new Linear(4, 16, true, 1, GPU);
             Linear b = new Linear(16, 4, true, 2, GPU)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new FusedNormMlp(n, a, b, GPU));
            assertTrue(e.getMessage().contains("LayerNorm(5"), e.getMessage());
        }
    }

    /** A CUDA model's parameter and buffer (state-dict) names are the CPU model's (GpuModelsTest trains both). */
    @Test
    void aCudaModelKeepsItsParameterNames() {
        needsCuda();
        try (ConvNeXtDcls cpu = model(Device.cpu()); ConvNeXtDcls gpu = model(GPU)) {
            assertEquals(new ArrayList<>(cpu.namedParameters().keySet()),
                    new ArrayList<>(gpu.namedParameters().keySet()), "parameter names, in order");
            assertTrue(gpu.namedParameters().containsKey("stages.1.0.pwconv2.bias"), "a pointwise parameter's name");
            Map<String, Tensor> bufCpu = cpu.namedBuffers();
            assertEquals(bufCpu.keySet(), gpu.namedBuffers().keySet(), "buffer names");
        }
    }

    private static ConvNeXtDcls model(Device d) {
        return ConvNeXtDcls.builder().inChannels(1).numClasses(10).depths(1, 1).dims(8, 16).stemKernel(2)
                .dclsKernelSize(5).dclsKernelCount(3).interpolation(Interpolation.GAUSSIAN).layerScaleInit(0.5)
                .seed(5).device(d).build();
    }
}
