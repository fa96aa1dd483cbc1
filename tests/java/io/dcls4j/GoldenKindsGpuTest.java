package io.dcls4j;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

/**
 * The golden cases of the layer kinds ({@link GoldenKindsTest}, {@link GoldenTransposeTest}) through layers on
 * the GPU (TF32 off), with the CPU's tolerance; skipped without a GPU. Over the CPU emulation of CUDA (no cuDNN)
 * the convolutions run on dcls4j's own kernels (depthwise or direct).
 */
class GoldenKindsGpuTest {

    static List<String> names() {
        return GoldenCase.all(GoldenKindsTest.dir()).stream().map(g -> g.name).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void goldenKindCaseOnTheGpu(String name) {
        GpuSupport.assumeGpu();
        GoldenCase g = GoldenCase.load(GoldenKindsTest.dir(), name);
        if (GoldenKindsTest.isTransposed(g)) {
            // a transposed layer runs the convolution from Cout to Cin that it transposes
            GpuSupport.assumeGpu();
            GoldenTransposeTest.run(g, GpuSupport.GPU);
        } else {
            GpuSupport.assumeGpu();
            GoldenNativeTest.run(g, GpuSupport.GPU);
        }
    }
}
