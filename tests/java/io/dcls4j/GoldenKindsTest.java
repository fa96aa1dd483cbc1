package io.dcls4j;

import io.dcls4j.checkpoint.Checkpoint;
import io.dcls4j.io.NdArray;
import io.dcls4j.io.Npz;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.dcls4j.Compare.close;

/**
 * The golden cases of the layer kinds beyond Dcls1d/2d/3d (Dcls2_1d, Dcls3_1d, Dcls2dK1d), computed in float64 by
 * the PyTorch reference (tests/pytorch/make_kind_cases.py), through the public API exactly as
 * {@link GoldenNativeTest}: kernel, output and every gradient within 1e-4 * max(1, max|ref|).
 *
 * <p>The directory is the system property {@code dcls4j.golden.kinds.dir}, by default
 * {@code tests/data/golden-kinds}; it has the layout of the shared golden directory, so held-out cases of any
 * kind (Dcls1d ... Dcls2dK1d) dropped there run too. Transposed cases ({@code DclsTranspose*}) are
 * {@link GoldenTransposeTest}'s.
 */
class GoldenKindsTest {

    static Path dir() {
        return Path.of(System.getProperty("dcls4j.golden.kinds.dir", "tests/data/golden-kinds"));
    }

    static boolean isTransposed(GoldenCase g) {
        return g.string("module").startsWith("DclsTranspose");
    }

    @TestFactory
    List<DynamicTest> goldenKindCasesThroughTheLayer() {
        List<GoldenCase> cases = GoldenCase.all(dir()).stream().filter(g -> !isTransposed(g)).toList();
        if (cases.isEmpty()) {
            throw new IllegalStateException("no layer cases in " + dir().toAbsolutePath());
        }
        return cases.stream().map(g -> DynamicTest.dynamicTest(g.name, () -> GoldenNativeTest.run(g))).toList();
    }

    /**
     * A reference state_dict of each case's layer ({@code model.layer.weight, .P, .SIG, .bias} in the reference's
     * shapes, in an npz with another entry) imported by {@link Checkpoint#importReference} builds the golden kernel.
     */
    @TestFactory
    List<DynamicTest> referenceStateDictImport(@TempDir Path tmp) {
        return GoldenCase.all(dir()).stream().filter(g -> !isTransposed(g)).map(g -> DynamicTest.dynamicTest(g.name,
                () -> {
                    Map<String, NdArray> state = new LinkedHashMap<>();
                    state.put("model.other.weight", NdArray.vector(1, 2, 3));
                    for (String key : List.of("weight", "P", "SIG", "bias")) {
                        if (g.has(key)) {
                            state.put("model.layer." + key, g.array(key));
                        }
                    }
                    Path file = tmp.resolve(g.name + ".npz");
                    Npz.write(file, state, true);
                    try (DclsConv conv = GoldenNativeTest.builder(g).build()) {
                        Checkpoint.importReference(file, "model.layer", conv);
                        close(g.name + " K after import", g.data("K"), conv.buildKernel().toFloatArray());
                    }
                })).toList();
    }
}
