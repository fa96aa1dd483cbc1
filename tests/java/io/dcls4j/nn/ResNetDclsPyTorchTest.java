package io.dcls4j.nn;

import io.dcls4j.Compare;
import io.dcls4j.Interpolation;
import io.dcls4j.Parameter;
import io.dcls4j.PyTorchLayout;
import io.dcls4j.Tensor;
import io.dcls4j.io.NdArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * ResNet-DCLS in PyTorch (torchvision's layout, reference Dcls2d), filled at random, float64, against this model
 * loaded from its state dict: a training step (batch statistics) gives the logits, loss, every gradient and the
 * updated running statistics; evaluation mode after it gives the logits with the running statistics.
 */
class ResNetDclsPyTorchTest {
    @ParameterizedTest
    @ValueSource(strings = {"resnet18_v0", "resnet18_v1", "resnet18_max", "resnet50_gauss"})
    void trainingStepAndEvalMatchPyTorch(String name) throws Exception {
        PyTorchCase c = PyTorchCase.load(name);
        Interpolation interpolation = Interpolation.valueOf(c.string("interpolation"));
        int ks = c.integer("dcls_kernel_size");
        try (Arena arena = Arena.ofConfined();
             ResNetDcls model = ResNetDcls.builder(ResNetDcls.Layout.valueOf(c.string("layout")))
                     .stem(ResNetDcls.Stem.valueOf(c.string("stem"))).width(c.integer("width")).depths(c.ints("depths"))
                     .inChannels(c.integer("in_chans")).numClasses(c.integer("num_classes")).dclsKernelSize(ks)
                     .dclsKernelCount(c.integer("dcls_kernel_count")).interpolation(interpolation).seed(3).build();
             CrossEntropyLoss loss = new CrossEntropyLoss()) {
            model.loadPyTorchState(c.state());
            NdArray x = c.array("x");
            Tensor input = Tensor.allocate(arena, x.shape()).copyFrom(x.toFloatArray());
            model.train();
            Tensor logits = model.forward(input);
            Compare.close(name + " logits", c.array("logits").data(), logits.toFloatArray());
            float l = loss.forward(logits, c.labels());
            Compare.close(name + " loss", c.array("loss").data(), new float[] {l});
            model.zeroGrad();
            model.backward(loss.backward());

            Map<String, Parameter> params = model.namedParameters();
            List<String> expected = new ArrayList<>();
            c.arrays().keySet().stream().filter(k -> k.startsWith("grad.")).forEach(k -> expected.add(k.substring(5)));
            assertEquals(expected, new ArrayList<>(params.keySet()), "named parameters, in torch's order");
            int[] dks = {ks, ks};
            for (var e : params.entrySet()) {
                float[] grad = e.getValue().grad().toFloatArray();
                if (e.getKey().endsWith(".P") || e.getKey().endsWith(".SIG")) {
                    grad = PyTorchLayout.gradientsToReference(interpolation, dks, grad);
                }
                Compare.close(name + " grad " + e.getKey(), c.array("grad." + e.getKey()).data(), grad);
            }
            for (var e : model.namedBuffers().entrySet()) {
                if (!e.getKey().endsWith("num_batches_tracked")) {
                    Compare.close(name + " " + e.getKey() + " after the step", c.array("after." + e.getKey()).data(),
                            e.getValue().toFloatArray());
                }
            }
            model.eval();
            Compare.close(name + " eval logits", c.array("logits_eval").data(), model.forward(input).toFloatArray());
        }
    }
}
