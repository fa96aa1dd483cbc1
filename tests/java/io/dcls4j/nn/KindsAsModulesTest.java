package io.dcls4j.nn;

import io.dcls4j.DclsConv;
import io.dcls4j.DclsConvTranspose;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The layer kinds of issue 15 are io.dcls4j.nn modules: a transposed DCLS and a Dcls2_1d inside a Sequential give
 * the parameters under the Sequential's names, and the same output and gradients as the layers called by hand.
 */
class KindsAsModulesTest {
    @Test
    void transposedAndN1dKindsRunInsideASequential() {
        try (Arena arena = Arena.ofConfined();
             DclsConvTranspose up = DclsConvTranspose.builder(2, 3).kernelCount(2).dilatedKernelSize(5, 5).stride(2)
                     .padding(2).seed(3).build();
             DclsConv k21 = DclsConv.builder(3, 2).kernelCount(2).dilatedKernelSize(5).denseKernelSize(3)
                     .padding(1, 2).seed(4).build();
             DclsConvTranspose upAlone = DclsConvTranspose.builder(2, 3).kernelCount(2).dilatedKernelSize(5, 5)
                     .stride(2).padding(2).seed(3).build();
             DclsConv k21Alone = DclsConv.builder(3, 2).kernelCount(2).dilatedKernelSize(5).denseKernelSize(3)
                     .padding(1, 2).seed(4).build()) {
            Sequential net = new Sequential().add("up", up).add("conv", k21);
            List<String> names = new ArrayList<>(net.namedParameters().keySet());
            assertEquals("up.weight", names.get(0));
            assertEquals(up.parameters().size() + k21.namedParameters().size(), names.size(), names.toString());
            Tensor x = Tensor.allocate(arena, 2, 2, 6, 7);
            for (long i = 0; i < x.elementCount(); i++) {
                x.set(i, (float) Math.sin(0.37 * i));
            }
            Tensor y = net.forward(x);
            Tensor expected = k21Alone.forward(upAlone.forward(x));
            assertArrayEquals(expected.shape(), y.shape());
            assertArrayEquals(expected.toFloatArray(), y.toFloatArray(), 0f);
            Tensor gy = Tensor.allocate(arena, y.shape()).fill(0.25f);
            net.zeroGrad();
            Tensor gx = net.backward(gy);
            upAlone.zeroGrad();
            k21Alone.zeroGrad();
            Tensor gxAlone = upAlone.backward(k21Alone.backward(gy));
            assertArrayEquals(gxAlone.toFloatArray(), gx.toFloatArray(), 0f);
            List<Parameter> alone = new ArrayList<>(upAlone.parameters());
            alone.addAll(k21Alone.namedParameters().values());
            List<Parameter> inNet = new ArrayList<>(net.namedParameters().values());
            for (int i = 0; i < alone.size(); i++) {
                assertArrayEquals(alone.get(i).grad().toFloatArray(), inNet.get(i).grad().toFloatArray(), 0f,
                        names.get(i));
            }
        }
    }
}
