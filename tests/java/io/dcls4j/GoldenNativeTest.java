package io.dcls4j;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.lang.foreign.Arena;
import java.util.List;

import static io.dcls4j.Compare.close;
import static io.dcls4j.Compare.toFloat;

/**
 * Every golden case of the PyTorch reference (float64), run through the public API in float32:
 * configure a DclsConv like the reference module, import its parameters with
 * {@link DclsConv#loadReferenceParameters}, then compare the kernel, the output and every gradient.
 * {@link GoldenGpuTest} runs the same on a GPU.
 */
class GoldenNativeTest {

    @TestFactory
    List<DynamicTest> goldenCasesThroughTheLayer() {
        return GoldenCase.all().stream().map(g -> DynamicTest.dynamicTest(g.name, () -> run(g))).toList();
    }

    static void run(GoldenCase g) {
        run(g, Device.cpu());
    }

    /**
     * A builder configured like the case's reference module: Dcls1d/2d/3d, or Dcls2_1d / Dcls3_1d
     * ({@code dense_kernel_size}) or Dcls2dK1d ({@code flat_dim}).
     */
    static DclsConv.Builder builder(GoldenCase g) {
        DclsConv.Builder b = DclsConv.builder(g.integer("in_channels"), g.integer("out_channels"))
                .kernelCount(g.integer("kernel_count")).dilatedKernelSize(g.intArray("dilated_kernel_size"))
                .stride(g.intArray("stride")).padding(g.intArray("padding")).groups(g.integer("groups"))
                .bias(g.bool("bias")).interpolation(g.interpolation()).paddingMode(g.paddingMode()).seed(7);
        if (g.hasKey("dense_kernel_size")) {
            b.denseKernelSize(g.intArray("dense_kernel_size"));
        }
        if (g.hasKey("flat_dim")) {
            b.flatDim(g.integer("flat_dim"));
        }
        return b;
    }

    /** The case on {@code device}: the layer and its input there, the results read back by copies. */
    static void run(GoldenCase g, Device device) {
        Interpolation interp = g.interpolation();
        int[] dks = g.intArray("dilated_kernel_size");
        try (Arena arena = Arena.ofConfined();
             DclsConv conv = builder(g).device(device).build()) {
            if (!conv.kind().referenceName().equals(g.string("module"))) {
                throw new AssertionError(g.name + ": built a " + conv.kind().referenceName() + " for a "
                        + g.string("module"));
            }
            conv.loadReferenceParameters(toFloat(g.data("weight")), toFloat(g.data("P")),
                    g.has("SIG") ? toFloat(g.data("SIG")) : null, g.has("bias") ? toFloat(g.data("bias")) : null);

            Tensor x = Tensor.allocate(arena, device, g.array("x").shape()).copyFrom(toFloat(g.data("x")));
            Tensor y = conv.forward(x);
            close(g.name + " K", g.data("K"), conv.kernel().toFloatArray());
            close(g.name + " y", g.data("y"), y.toFloatArray());

            Tensor gy = Tensor.allocate(arena, device, y.shape()).copyFrom(toFloat(g.data("gy")));
            Tensor gx = conv.backward(gy);
            close(g.name + " grad_x", g.data("grad_x"), gx.toFloatArray());
            close(g.name + " grad_weight", g.data("grad_weight"), conv.weight().grad().toFloatArray());
            close(g.name + " grad_P", g.data("grad_P"),
                    PyTorchLayout.gradientsToReference(interp, dks, conv.positions().grad().toFloatArray()));
            if (g.has("grad_SIG")) {
                close(g.name + " grad_SIG", g.data("grad_SIG"),
                        PyTorchLayout.gradientsToReference(interp, dks, conv.sigma().grad().toFloatArray()));
            }
            if (g.has("grad_bias")) {
                close(g.name + " grad_bias", g.data("grad_bias"), conv.bias().grad().toFloatArray());
            }
        }
    }
}
