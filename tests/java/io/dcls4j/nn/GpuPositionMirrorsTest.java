package io.dcls4j.nn;

import io.dcls4j.DclsConv;
import io.dcls4j.Device;
import io.dcls4j.Interpolation;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.ffi.dcls_h;
import io.dcls4j.internal.Cuda;
import io.dcls4j.internal.CudaContext;
import io.dcls4j.internal.HostPositions;
import io.dcls4j.optim.SGD;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;

import static io.dcls4j.Compare.close;
import static io.dcls4j.Compare.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host mirrors of a CUDA model's DCLS positions (PositionMirrors): every DCLS layer's kernel hint in a model
 * forward reads its mirror, with results bit for bit those of the device path (each layer copying its positions and
 * waiting), and a mirror is never read once stale. The sparse mode is ALWAYS, so that a kernel cell missing from a
 * hint (a stale or wrong mirror) changes the result: the tap-sparse engine convolves with the listed cells only.
 */
class GpuPositionMirrorsTest {
    private static final Device GPU = Device.cuda(0);
    private static final int DCLS_KERNEL = 17;   // larger than a Gaussian element's reach: sigma changes its cells

    @BeforeEach
    void needsCuda() {
        Assumptions.assumeTrue(Device.cudaAvailable(), () -> "no CUDA device: " + Cuda.noDeviceReason());
        CudaContext.of(GPU.index()).setSparseMode(dcls_h.DCLS_CUDA_SPARSE_ALWAYS());
    }

    @AfterEach
    void restore() {
        HostPositions.setEnabled(true);
        if (Device.cudaAvailable()) {
            CudaContext.of(GPU.index()).setSparseMode(dcls_h.DCLS_CUDA_SPARSE_AUTO());
        }
    }

    /** Two blocks in the first stage: the second's P is tied to the first's (copied in the stage's forward). */
    private static ConvNeXtDcls convNeXt(Interpolation interpolation) {
        return ConvNeXtDcls.builder().inChannels(1).numClasses(10).depths(2, 1).dims(8, 16).stemKernel(2)
                .dclsKernelSize(DCLS_KERNEL).dclsKernelCount(3).interpolation(interpolation)
                .layerScaleInit(0.5).seed(5).device(GPU).build();
    }

    @Test
    void everyDclsLayerReadsItsMirrorWithTheDevicePathsResults() {
        SplittableRandom r = new SplittableRandom(3);
        long[] shape = {2, 1, 16, 16};
        try (Arena arena = Arena.ofConfined(); ConvNeXtDcls mirrored = convNeXt(Interpolation.GAUSSIAN);
             ConvNeXtDcls device = convNeXt(Interpolation.GAUSSIAN);
             CrossEntropyLoss lossM = new CrossEntropyLoss(0.1, GPU);
             CrossEntropyLoss lossD = new CrossEntropyLoss(0.1, GPU);
             SGD optM = SGD.builder().lr(0.5).momentum(0.9).params(mirrored.namedParameters().values()).build();
             SGD optD = SGD.builder().lr(0.5).momentum(0.9).params(device.namedParameters().values()).build()) {
            List<DclsConv> layers = mirrored.positionMirrors().layers();
            List<DclsConv> deviceLayers = device.positionMirrors().layers();
            assertEquals(3, layers.size(), "DCLS layers");
            for (int step = 0; step < 3; step++) {
                float[] xv = new float[2 * 16 * 16];
                for (int i = 0; i < xv.length; i++) {
                    xv[i] = (float) r.nextGaussian();
                }
                int[] labels = {r.nextInt(10), r.nextInt(10)};
                Tensor x = Tensor.allocate(arena, GPU, shape).copyFrom(xv);
                mirrored.zeroGrad();
                device.zeroGrad();
                Tensor yM = mirrored.forward(x);
                HostPositions.setEnabled(false);
                Tensor yD = device.forward(x);
                HostPositions.setEnabled(true);
                float[] logitsM = yM.toFloatArray();
                float[] logitsD = yD.toFloatArray();
                assertArrayEquals(logitsD, logitsM, "step " + step + ": logits");
                for (int i = 0; i < layers.size(); i++) {
                    assertEquals(step + 1, HostPositions.layers().hostHints(layers.get(i)),
                            "step " + step + ": host-path hints of DCLS layer " + i);
                    assertEquals(0, HostPositions.layers().hostHints(deviceLayers.get(i)),
                            "step " + step + ": the device path's layer " + i + " reads no mirror");
                    // the cells' count and box: a Gaussian's far cells change no float, only the plan shows them
                    assertEquals(deviceLayers.get(i).engineInfo(), layers.get(i).engineInfo(),
                            "step " + step + ": the plan of DCLS layer " + i);
                }
                lossM.forward(yM, labels);
                lossD.forward(yD, labels);
                mirrored.backward(lossM.backward());
                device.backward(lossD.backward());
                Iterator<Parameter> id = device.namedParameters().values().iterator();
                for (var e : mirrored.namedParameters().entrySet()) {
                    assertArrayEquals(id.next().grad().toFloatArray(), e.getValue().grad().toFloatArray(),
                            "step " + step + ": gradient of " + e.getKey());
                }
                optM.step();
                optD.step();
                mirrored.clampPositions();
                device.clampPositions();
            }
        }
    }

    /** ResNet-DCLS (each layer its own P): every DCLS layer reads its mirror, with the device path's results. */
    @Test
    void resNetReadsItsMirrorsWithTheDevicePathsResults() {
        SplittableRandom r = new SplittableRandom(6);
        try (Arena arena = Arena.ofConfined(); ResNetDcls mirrored = resNet(); ResNetDcls device = resNet();
             CrossEntropyLoss lossM = new CrossEntropyLoss(0.1, GPU);
             CrossEntropyLoss lossD = new CrossEntropyLoss(0.1, GPU)) {
            float[] xv = new float[2 * 3 * 8 * 8];
            for (int i = 0; i < xv.length; i++) {
                xv[i] = (float) r.nextGaussian();
            }
            Tensor x = Tensor.allocate(arena, GPU, 2, 3, 8, 8).copyFrom(xv);
            Tensor yM = mirrored.forward(x);
            HostPositions.setEnabled(false);
            Tensor yD = device.forward(x);
            HostPositions.setEnabled(true);
            assertArrayEquals(yD.toFloatArray(), yM.toFloatArray(), "logits");
            List<DclsConv> layers = mirrored.positionMirrors().layers();
            assertEquals(4, layers.size(), "DCLS layers");
            for (int i = 0; i < layers.size(); i++) {
                assertEquals(1, HostPositions.layers().hostHints(layers.get(i)), "host-path hints of layer " + i);
                assertEquals(device.positionMirrors().layers().get(i).engineInfo(), layers.get(i).engineInfo(),
                        "the plan of DCLS layer " + i);
            }
            int[] labels = {3, 8};
            lossM.forward(yM, labels);
            lossD.forward(yD, labels);
            mirrored.backward(lossM.backward());
            device.backward(lossD.backward());
            Iterator<Parameter> id = device.namedParameters().values().iterator();
            for (var e : mirrored.namedParameters().entrySet()) {
                assertArrayEquals(id.next().grad().toFloatArray(), e.getValue().grad().toFloatArray(),
                        "gradient of " + e.getKey());
            }
        }
    }

    private static ResNetDcls resNet() {
        return ResNetDcls.builder(ResNetDcls.Layout.RESNET18).stem(ResNetDcls.Stem.SMALL).width(4).depths(1, 1)
                .inChannels(3).numClasses(10).dclsKernelSize(5).dclsKernelCount(3)
                .interpolation(Interpolation.BILINEAR).seed(5).device(GPU).build();
    }

    /** The refresh of a warm model's mirrors (copies, one wait) allocates nothing on the Java heap. */
    @Test
    void aWarmRefreshAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (Arena arena = Arena.ofConfined(); ConvNeXtDcls model = convNeXt(Interpolation.GAUSSIAN)) {
            model.forward(Tensor.allocate(arena, GPU, 2, 1, 16, 16));   // the mirrors are allocated once, here
            PositionMirrors mirrors = model.positionMirrors();
            int allocating = 0;
            for (int i = 0; i < 50; i++) {
                long before = threads.getCurrentThreadAllocatedBytes();
                mirrors.begin();
                mirrors.end();
                if (threads.getCurrentThreadAllocatedBytes() != before) {
                    allocating++;
                }
            }
            assertTrue(allocating <= 5, allocating + " of 50 warm refreshes allocated on the Java heap");
            assertEquals(1, HostPositions.layers().hostHints(mirrors.layers().get(0)), "no hint read the mirrors");
        }
    }

    /**
     * After a model forward, the first DCLS layer's positions are moved on the device by hand and the layer is run on
     * its own: it must read the device, not its (now stale) mirror, and match the same layer on the CPU. Bilinear:
     * at most 4 cells per element, so cells listed from the old positions miss the new ones' (a Gaussian's reach
     * covers nearly the whole kernel from anywhere).
     */
    @Test
    void aStaleMirrorIsNeverRead() {
        SplittableRandom r = new SplittableRandom(4);
        try (Arena arena = Arena.ofConfined(); ConvNeXtDcls model = convNeXt(Interpolation.BILINEAR);
             DclsConv cpu = DclsConv.builder(8, 8).groups(8).kernelCount(3)
                     .dilatedKernelSize(DCLS_KERNEL, DCLS_KERNEL).padding(DCLS_KERNEL / 2)
                     .interpolation(Interpolation.BILINEAR).bias(true).device(Device.cpu()).build()) {
            float[] xv = new float[2 * 16 * 16];
            for (int i = 0; i < xv.length; i++) {
                xv[i] = (float) r.nextGaussian();
            }
            model.forward(Tensor.allocate(arena, GPU, 2, 1, 16, 16).copyFrom(xv));
            DclsConv layer = model.positionMirrors().layers().get(0);
            long hints = HostPositions.layers().hostHints(layer);
            assertEquals(1, hints, "the model's forward read the mirror");

            float[] moved = new float[Math.toIntExact(layer.positions().value().elementCount())];
            for (int i = 0; i < moved.length; i++) {
                moved[i] = (float) ((r.nextDouble() - 0.5) * (DCLS_KERNEL - 1));   // within +-dilatedKernelSize/2
            }
            layer.positions().value().copyFrom(moved);
            float[] xl = new float[2 * 8 * 6 * 6];
            for (int i = 0; i < xl.length; i++) {
                xl[i] = (float) r.nextGaussian();
            }
            float[] got = layer.forward(Tensor.allocate(arena, GPU, 2, 8, 6, 6).copyFrom(xl)).toFloatArray();
            assertEquals(hints, HostPositions.layers().hostHints(layer), "the lone forward read the device");

            cpu.weight().value().copyFrom(layer.weight().value());
            cpu.positions().value().copyFrom(layer.positions().value());
            cpu.bias().value().copyFrom(layer.bias().value());
            Tensor want = cpu.forward(Tensor.allocate(arena, 2, 8, 6, 6).copyFrom(xl));
            close("the lone layer's forward after its positions moved", toDouble(want.toFloatArray()), got, 1e-4);
        }
    }
}
