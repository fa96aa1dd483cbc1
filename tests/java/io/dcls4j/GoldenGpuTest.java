package io.dcls4j;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

/**
 * Every golden case of the PyTorch reference through a layer on the GPU (TF32 off), with the CPU's
 * tolerance: the kernel, the output and every gradient ({@link GoldenNativeTest#run(GoldenCase, Device)}).
 * Each case is skipped, one by one, without a GPU.
 */
class GoldenGpuTest {

    static List<String> names() {
        return GoldenCase.names();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void goldenCaseThroughTheLayerOnTheGpu(String name) {
        GpuSupport.assumeGpu();
        GoldenCase g = GoldenCase.load(name);
        GpuSupport.assumeGpu();
        GoldenNativeTest.run(g, GpuSupport.GPU);
    }
}
