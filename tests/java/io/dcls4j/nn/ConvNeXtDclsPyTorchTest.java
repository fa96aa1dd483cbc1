package io.dcls4j.nn;

import io.dcls4j.Compare;
import io.dcls4j.Interpolation;
import io.dcls4j.Parameter;
import io.dcls4j.PyTorchLayout;
import io.dcls4j.Tensor;
import io.dcls4j.io.NdArray;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The official PyTorch ConvNeXt-DCLS (with the reference DCLS), filled at random and run in float64, against
 * this model loaded from its state dict: logits, loss and the gradient of every named parameter, within
 * 1e-4 * max(1, max |reference|).
 */
class ConvNeXtDclsPyTorchTest {
    @ParameterizedTest
    @ValueSource(strings = {"convnext_v0", "convnext_v1", "convnext_max", "convnext_gauss"})
    void logitsLossAndEveryGradientMatchPyTorch(String name) throws Exception {
        PyTorchCase c = PyTorchCase.load(name);
        Interpolation interpolation = Interpolation.valueOf(c.string("interpolation"));
        int ks = c.integer("dcls_kernel_size");
        try (Arena arena = Arena.ofConfined();
             ConvNeXtDcls model = ConvNeXtDcls.builder().inChannels(c.integer("in_chans"))
                     .numClasses(c.integer("num_classes")).depths(c.ints("depths")).dims(c.ints("dims"))
                     .dclsKernelSize(ks).dclsKernelCount(c.integer("dcls_kernel_count"))
                     .interpolation(interpolation).seed(5).build();
             CrossEntropyLoss loss = new CrossEntropyLoss(c.number("label_smoothing"))) {
            model.loadPyTorchState(c.state());
            NdArray x = c.array("x");
            Tensor input = Tensor.allocate(arena, x.shape()).copyFrom(x.toFloatArray());
            Tensor logits = model.forward(input);
            Compare.close(name + " logits", c.array("logits").data(), logits.toFloatArray());
            float l = loss.forward(logits, c.labels());
            Compare.close(name + " loss", c.array("loss").data(), new float[] {l});
            model.zeroGrad();
            model.backward(loss.backward());

            Map<String, Parameter> params = model.namedParameters();
            List<String> expectedNames = new ArrayList<>();
            for (String k : c.arrays().keySet()) {
                if (k.startsWith("grad.")) {
                    expectedNames.add(k.substring(5));
                }
            }
            assertEquals(expectedNames, new ArrayList<>(params.keySet()), "named parameters, in torch's order");
            int[] dks = {ks, ks};
            for (var e : params.entrySet()) {
                NdArray ref = c.array("grad." + e.getKey());
                assertArrayEquals(ref.shape(), e.getValue().grad().shape(), e.getKey() + " shape");
                float[] grad = e.getValue().grad().toFloatArray();
                if (e.getKey().endsWith(".P") || e.getKey().endsWith(".SIG")) {
                    grad = PyTorchLayout.gradientsToReference(interpolation, dks, grad);
                }
                Compare.close(name + " grad " + e.getKey(), ref.data(), grad);
            }

            // saved back, the file holds torch's state dict: the same keys, in order, and the same values
            Map<String, NdArray> original = StateDict.read(c.state());
            for (String file : new String[] {"back.npz", "back.safetensors"}) {
                Path back = dir.resolve(name + file);
                model.saveState(back);
                Map<String, NdArray> saved = StateDict.read(back);
                assertEquals(new ArrayList<>(original.keySet()), new ArrayList<>(saved.keySet()), file + " keys");
                original.forEach((k, v) -> {
                    assertArrayEquals(v.shape(), saved.get(k).shape(), file + " " + k);
                    Compare.close(file + " " + k, v.data(), saved.get(k).toFloatArray(), 1e-6);
                });
            }
        }
    }

    @TempDir
    Path dir;
}
