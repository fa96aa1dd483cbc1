package io.dcls4j.nn;

import io.dcls4j.Compare;
import io.dcls4j.Tensor;
import io.dcls4j.io.NdArray;
import io.dcls4j.io.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Conv} with dilation against PyTorch's conv1d/2d/3d in float64 (tests/pytorch/make_conv_cases.py):
 * output, input gradient, weight and bias gradients, over two steps (the gradients accumulate, the spread kernel
 * follows weight changes), within 1e-4 * max(1, max |reference|).
 */
class ConvDilationPyTorchTest {
    private static int[] ints(NdArray a) {
        return Arrays.stream(a.data()).mapToInt(d -> (int) d).toArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv_dilated_dw2d", "conv_dilated_dw2d_k7", "conv_dilated_grouped1d",
            "conv_dilated_dense2d", "conv_dilated_3d"})
    void matchesPyTorch(String name) throws Exception {
        Map<String, NdArray> c = Npz.read(Path.of("tests/data/nn", name + ".npz"));
        NdArray x = c.get("x");
        NdArray w = c.get("weight");
        int in = (int) x.shape()[1];
        int out = (int) w.shape()[0];
        try (Arena arena = Arena.ofConfined();
             Conv conv = new Conv(in, out, ints(c.get("kernel")), ints(c.get("stride")), ints(c.get("padding")),
                     ints(c.get("dilation")), ints(c.get("groups"))[0], true, 3)) {
            Tensor input = Tensor.allocate(arena, x.shape()).copyFrom(x.toFloatArray());
            Tensor gradY = Tensor.allocate(arena, c.get("grad_y").shape()).copyFrom(c.get("grad_y").toFloatArray());
            // a first step with other weights, whose gradients zeroGrad must clear
            conv.forward(input);
            conv.backward(gradY);
            conv.weight().value().copyFrom(w.toFloatArray());
            conv.bias().value().copyFrom(c.get("bias").toFloatArray());
            conv.zeroGrad();
            for (int step = 1; step <= 2; step++) {
                Tensor y = conv.forward(input);
                assertArrayEquals(c.get("y").shape(), y.shape(), name + " output shape");
                Compare.close(name + " y", c.get("y").data(), y.toFloatArray());
                Tensor gradX = conv.backward(gradY);
                Compare.close(name + " grad_x", c.get("grad_x").data(), gradX.toFloatArray());
                Compare.close(name + " grad_weight x" + step, scaled(c.get("grad_weight"), step),
                        conv.weight().grad().toFloatArray());
                Compare.close(name + " grad_bias x" + step, scaled(c.get("grad_bias"), step),
                        conv.bias().grad().toFloatArray());
            }
        }
    }

    private static double[] scaled(NdArray a, int factor) {
        return Arrays.stream(a.data()).map(v -> v * factor).toArray();
    }

    @Test
    void badDilationIsRefusedWithItsName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Conv(2, 2,
                new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {0, 1}, 1, true, 0));
        assertTrue(e.getMessage().contains("dilation"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Conv(2, 2, new int[] {3, 3}, new int[] {1, 1},
                new int[] {1, 1}, new int[] {2}, 1, true, 0));
        assertTrue(e.getMessage().contains("dilation"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Conv(4, 4, new int[] {3, 3}, new int[] {1, 1},
                new int[] {1, 1}, new int[] {1 << 30, 1 << 30}, 1, true, 0));
        assertTrue(e.getMessage().contains("2^31 - 1"), e.getMessage());
    }

    @Test
    void convNeXtDepthwiseKindsHaveConvNeXtNamesAndEqualOrFewerParameters() {
        long[] counts = new long[3];
        ConvNeXtDcls.Depthwise[] kinds = ConvNeXtDcls.Depthwise.values();
        for (int i = 0; i < kinds.length; i++) {
            try (ConvNeXtDcls model = ConvNeXtDcls.builder().inChannels(1).numClasses(10).depths(1, 2).dims(8, 16)
                    .stemKernel(2).dclsKernelSize(7).dclsKernelCount(9)
                    .interpolation(io.dcls4j.Interpolation.GAUSSIAN).depthwise(kinds[i]).depthwiseKernelSize(7)
                    .dilation(2).seed(1).build();
                 Arena arena = Arena.ofConfined()) {
                Map<String, io.dcls4j.Parameter> p = model.namedParameters();
                if (kinds[i] == ConvNeXtDcls.Depthwise.DCLS) {
                    assertTrue(p.containsKey("stages.1.0.dwconv.P"), p.keySet().toString());
                } else {
                    assertArrayEquals(new long[] {16, 1, 7, 7}, p.get("stages.1.1.dwconv.weight").value().shape());
                    assertTrue(p.keySet().stream().noneMatch(k -> k.endsWith(".P") || k.endsWith(".SIG")));
                }
                counts[i] = p.values().stream().mapToLong(v -> v.value().elementCount()).sum();
                // every kind trains: a step runs and its output keeps the shape
                Tensor x = Tensor.allocate(arena, 2, 1, 28, 28).fill(0.5f);
                Tensor logits = model.forward(x);
                assertArrayEquals(new long[] {2, 10}, logits.shape());
                model.zeroGrad();
                model.backward(Tensor.allocate(arena, 2, 10).fill(0.1f));
                model.clampPositions();
            }
        }
        assertEquals(counts[1], counts[2], "dense and dilated: the same weights");
        assertTrue(counts[0] <= counts[1], "DCLS K=9 (weights, P, SIG) has no more parameters than 7x7: "
                + Arrays.toString(counts));
    }
}
