package io.dcls4j.nn;

import io.dcls4j.Interpolation;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.io.NdArray;
import io.dcls4j.io.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** State dicts: round trips, bad files (the model unchanged), the fixed builder names, and bad input. */
class ConvNeXtDclsStateTest {
    @TempDir
    Path dir;

    private static ConvNeXtDcls small(Interpolation interpolation, long seed) {
        return ConvNeXtDcls.builder().inChannels(3).numClasses(5).depths(1, 2, 1, 1).dims(4, 8, 8, 12)
                .stemKernel(4).dclsKernelSize(5).dclsKernelCount(3).interpolation(interpolation)
                .layerScaleInit(0.5).dropPathRate(0).seed(seed).build();
    }

    private static Map<String, float[]> values(Module m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((k, p) -> out.put(k, p.value().toFloatArray()));
        return out;
    }

    @Test
    void saveThenLoadGivesTheSameParametersInBothFormats() throws Exception {
        for (String file : new String[] {"state.safetensors", "state.npz"}) {
            try (ConvNeXtDcls a = small(Interpolation.GAUSSIAN, 1); ConvNeXtDcls b = small(Interpolation.GAUSSIAN, 2)) {
                a.saveState(dir.resolve(file));
                b.loadPyTorchState(dir.resolve(file));
                Map<String, float[]> va = values(a);
                Map<String, float[]> vb = values(b);
                assertEquals(va.keySet(), vb.keySet());
                va.forEach((k, v) -> assertArrayEquals(v, vb.get(k), file + " " + k));
            }
        }
    }

    @Test
    void theFileHasEveryBlockUnderTheOfficialNamesAndPInTheReferenceLayout() throws Exception {
        try (ConvNeXtDcls m = small(Interpolation.BILINEAR, 3)) {
            m.saveState(dir.resolve("s.npz"));
            Map<String, NdArray> file = Npz.read(dir.resolve("s.npz"));
            for (String k : new String[] {"downsample_layers.0.0.weight", "downsample_layers.0.1.bias",
                    "downsample_layers.1.0.weight", "downsample_layers.1.1.weight", "stages.1.0.dwconv.P",
                    "stages.1.1.dwconv.P", "stages.1.1.gamma", "stages.1.0.norm.weight", "stages.1.0.pwconv1.weight",
                    "stages.3.0.pwconv2.bias", "norm.weight", "head.bias"}) {
                assertTrue(file.containsKey(k), "saved state has " + k);
            }
            assertArrayEquals(file.get("stages.1.0.dwconv.P").data(), file.get("stages.1.1.dwconv.P").data());
            assertTrue(!m.namedParameters().containsKey("stages.1.1.dwconv.P"), "P once per stage in named parameters");
            assertArrayEquals(new long[] {2, 8, 1, 3}, file.get("stages.1.0.dwconv.P").shape());
        }
    }

    @Test
    void aMissingUnexpectedOrMisShapedKeyIsNamedAndChangesNothing() throws Exception {
        try (ConvNeXtDcls source = small(Interpolation.BILINEAR, 1); ConvNeXtDcls m = small(Interpolation.BILINEAR, 2)) {
            source.saveState(dir.resolve("good.npz"));
            Map<String, NdArray> good = Npz.read(dir.resolve("good.npz"));
            Map<String, float[]> before = values(m);

            Map<String, NdArray> missing = new LinkedHashMap<>(good);
            missing.remove("stages.2.0.norm.bias");
            expectError(m, missing, "stages.2.0.norm.bias");

            Map<String, NdArray> extra = new LinkedHashMap<>(good);
            extra.put("stages.9.0.gamma", NdArray.vector(1, 2));
            expectError(m, extra, "stages.9.0.gamma");

            Map<String, NdArray> shape = new LinkedHashMap<>(good);
            shape.put("head.weight", NdArray.of(new double[60], 5, 12, 1));
            expectError(m, shape, "head.weight");

            Map<String, NdArray> unshared = new LinkedHashMap<>(good);
            NdArray p = good.get("stages.1.1.dwconv.P");
            double[] other = p.data().clone();
            other[0] += 1;
            unshared.put("stages.1.1.dwconv.P", NdArray.of(other, p.shape()));
            expectError(m, unshared, "stages.1.1.dwconv.P");

            Map<String, float[]> after = values(m);
            before.forEach((k, v) -> assertArrayEquals(v, after.get(k), k + " changed by a failed load"));
        }
    }

    private void expectError(ConvNeXtDcls m, Map<String, NdArray> arrays, String key) throws Exception {
        Path f = dir.resolve("bad.npz");
        Npz.write(f, arrays, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.loadPyTorchState(f));
        assertTrue(e.getMessage().contains(key), e.getMessage());
    }

    @Test
    void badInputGetsClearErrors() {
        try (Arena arena = Arena.ofConfined(); ConvNeXtDcls m = small(Interpolation.BILINEAR, 1);
             CrossEntropyLoss loss = new CrossEntropyLoss()) {
            Tensor wrongChannels = Tensor.allocate(arena, 2, 4, 32, 32);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> m.forward(wrongChannels)).getMessage()
                    .contains("(N, 3, H, W)"));
            Tensor logits = m.forward(Tensor.allocate(arena, 2, 3, 32, 32));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> loss.forward(logits, new int[] {0, 5}))
                    .getMessage().contains("label 5"));
            assertThrows(IllegalStateException.class, loss::backward);
            m.close();
            assertThrows(IllegalStateException.class, () -> m.forward(logits));
            assertThrows(IllegalStateException.class, m::namedParameters);
        }
    }

    @Test
    void aWrongChannelCountBetweenLayersIsNamed() {
        try (Arena arena = Arena.ofConfined();
             Sequential s = Sequential.of(new Linear(4, 6, true, 1), new LayerNorm(5, 1e-6))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> s.forward(Tensor.allocate(arena, 2, 4)));
            assertTrue(e.getMessage().contains("LayerNorm") && e.getMessage().contains("6 channels"), e.getMessage());
        }
    }

    @Test
    void sharedPositionsGetTheGradientOfEveryBlock() {
        try (Arena arena = Arena.ofConfined(); ConvNeXtDcls m = small(Interpolation.GAUSSIAN, 4)) {
            Tensor x = FiniteDifferences.random(arena, 1, 2, 3, 32, 32);
            Parameter p = m.namedParameters().get("stages.1.0.dwconv.P");
            Tensor logits = m.forward(x);
            float[] r = new float[(int) logits.elementCount()];
            java.util.Arrays.fill(r, 1f);
            Tensor g = Tensor.allocate(arena, logits.shape()).copyFrom(r);
            m.zeroGrad();
            m.backward(g);
            FiniteDifferences.compare("stage 1 shared P", p.value(), p.grad().toFloatArray(),
                    () -> FiniteDifferences.dot(m.forward(x), r), new java.util.SplittableRandom(3));
        }
    }
}
