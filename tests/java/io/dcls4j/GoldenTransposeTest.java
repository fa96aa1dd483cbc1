package io.dcls4j;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.lang.foreign.Arena;
import java.util.List;

import static io.dcls4j.Compare.close;
import static io.dcls4j.Compare.toFloat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Transposed DCLS against PyTorch in float64 (tests/pytorch/make_kind_cases.py): the reference's constructed
 * kernel through {@code torch.nn.functional.conv_transposeNd}, with stride, padding, output padding and groups;
 * the kernel, the output and the gradients of input, weight, positions, sigma and bias, within
 * 1e-4 * max(1, max|ref|). Cases are the {@code DclsTranspose*} ones of {@link GoldenKindsTest#dir()}.
 */
class GoldenTransposeTest {

    @TestFactory
    List<DynamicTest> goldenTransposedCasesThroughTheLayer() {
        List<GoldenCase> cases = GoldenCase.all(GoldenKindsTest.dir()).stream()
                .filter(GoldenKindsTest::isTransposed).toList();
        if (cases.isEmpty()) {
            throw new IllegalStateException("no transposed cases in " + GoldenKindsTest.dir().toAbsolutePath());
        }
        return cases.stream().map(g -> DynamicTest.dynamicTest(g.name, () -> run(g, Device.cpu()))).toList();
    }

    static void run(GoldenCase g, Device device) {
        Interpolation interp = g.interpolation();
        int[] dks = g.intArray("dilated_kernel_size");
        try (Arena arena = Arena.ofConfined();
             DclsConvTranspose conv = DclsConvTranspose.builder(g.integer("in_channels"), g.integer("out_channels"))
                     .kernelCount(g.integer("kernel_count")).dilatedKernelSize(dks).stride(g.intArray("stride"))
                     .padding(g.intArray("padding")).outputPadding(g.intArray("output_padding"))
                     .groups(g.integer("groups")).bias(g.bool("bias")).interpolation(interp).seed(7).device(device)
                     .build()) {
            conv.loadReferenceParameters(toFloat(g.data("weight")), toFloat(g.data("P")),
                    g.has("SIG") ? toFloat(g.data("SIG")) : null, g.has("bias") ? toFloat(g.data("bias")) : null);
            Tensor x = Tensor.allocate(arena, device, g.array("x").shape()).copyFrom(toFloat(g.data("x")));
            Tensor y = conv.forward(x);
            close(g.name + " K", g.data("K"), conv.kernel().toFloatArray());
            assertArrayEquals(g.array("y").shape(), y.shape(), g.name + " output shape");
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

    @Test
    void badTransposedSettingsAreRejectedByName() {
        var e1 = assertThrows(IllegalArgumentException.class, () -> DclsConvTranspose.builder(2, 2).kernelCount(2)
                .dilatedKernelSize(5).stride(2).outputPadding(2).build());
        assertTrue(e1.getMessage().contains("outputPadding[0]"), e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> DclsConvTranspose.builder(3, 2).groups(2)
                .kernelCount(2).dilatedKernelSize(5).build());
        assertTrue(e2.getMessage().contains("groups"), e2.getMessage());
        try (DclsConvTranspose t = DclsConvTranspose.builder(2, 3).kernelCount(2).dilatedKernelSize(3, 3)
                .padding(5).build(); Arena arena = Arena.ofConfined()) {
            var e3 = assertThrows(IllegalArgumentException.class, () -> t.forward(Tensor.allocate(arena, 1, 2, 2, 2)));
            assertTrue(e3.getMessage().contains("padding"), e3.getMessage());
            var e4 = assertThrows(IllegalArgumentException.class, () -> t.forward(Tensor.allocate(arena, 1, 3, 4, 4)));
            assertTrue(e4.getMessage().contains("channels"), e4.getMessage());
            assertArrayEquals(new long[] {1, 3, 2, 2}, t.outputShape(1, 2, 10, 10)); // (10 - 1) - 2 * 5 + 3
        }
    }
}
