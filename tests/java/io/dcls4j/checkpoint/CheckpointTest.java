package io.dcls4j.checkpoint;

import io.dcls4j.DclsConv;
import io.dcls4j.Interpolation;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.io.NdArray;
import io.dcls4j.io.Npz;
import io.dcls4j.optim.AdamW;
import io.dcls4j.optim.Optimizer;
import io.dcls4j.optim.ParamGroup;
import io.dcls4j.optim.SGD;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Checkpoints: round trips, interoperability with NumPy and the safetensors spec, bad files. */
class CheckpointTest {
    private static final String PYTHON = "/usr/bin/python3";

    @TempDir
    Path dir;

    private static DclsConv.Builder conv1() {
        return DclsConv.builder(3, 4).kernelCount(3).dilatedKernelSize(7, 5).padding(3, 2);
    }

    private static DclsConv.Builder conv2() {
        return DclsConv.builder(4, 4).groups(4).kernelCount(2).dilatedKernelSize(9).padding(4)
                .interpolation(Interpolation.TRIANGLE).bias(false);
    }

    private static AdamW adam(DclsConv... layers) {
        return AdamW.builder().lr(0.01).weightDecay(0.05).groups(ParamGroup.dcls(5, layers)).build();
    }

    /** A few training steps so that every parameter and state is non-trivial. */
    private static void train(Optimizer opt, int steps, long seed, DclsConv l1, DclsConv l2) {
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(seed);
            Tensor x1 = Tensor.allocate(arena, 2, 3, 8, 6);
            Tensor x2 = Tensor.allocate(arena, 2, 4, 12);
            for (int s = 0; s < steps; s++) {
                fill(x1, r);
                fill(x2, r);
                Tensor y1 = l1.forward(x1);
                l1.backward(y1);                // loss = |y|^2 / 2
                if (l2 != null) {
                    Tensor y2 = l2.forward(x2);
                    l2.backward(y2);
                }
                opt.step();
                opt.zeroGrad();
            }
        }
    }

    private static void fill(Tensor t, SplittableRandom r) {
        for (long i = 0; i < t.elementCount(); i++) {
            t.set(i, (float) r.nextDouble(-1, 1));
        }
    }

    private static Map<String, float[]> snapshot(Map<String, DclsConv> layers, Optimizer opt) {
        Map<String, float[]> out = new LinkedHashMap<>();
        Checkpoint.stateDict(layers, opt).forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    private static void assertSameState(Map<String, float[]> expected, Map<String, float[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((k, v) -> assertArrayEquals(v, actual.get(k), k));
    }

    // ------------------------------------------------------------------------------------------ round trips

    @Test
    void roundTripsAndResumesBitForBit() throws IOException {
        for (String ext : new String[] {".npz", ".safetensors"}) {
            Path file = dir.resolve("ckpt" + ext);
            try (DclsConv a1 = conv1().seed(1).build(); DclsConv a2 = conv2().seed(2).build();
                 AdamW optA = adam(a1, a2);
                 DclsConv b1 = conv1().seed(3).build(); DclsConv b2 = conv2().seed(4).build();
                 AdamW optB = adam(b1, b2)) {
                Map<String, DclsConv> la = new LinkedHashMap<>();
                la.put("layer1", a1);
                la.put("layer2", a2);
                Map<String, DclsConv> lb = new LinkedHashMap<>();
                lb.put("layer1", b1);
                lb.put("layer2", b2);
                train(optA, 5, 10, a1, a2);
                Checkpoint.save(file, la, optA);
                Checkpoint.load(file, lb, optB);
                assertSameState(snapshot(la, optA), snapshot(lb, optB));
                assertEquals(5, optB.steps());
                // resuming gives exactly what continuing gives
                train(optA, 3, 11, a1, a2);
                train(optB, 3, 11, b1, b2);
                assertSameState(snapshot(la, optA), snapshot(lb, optB));
            }
        }
    }

    @Test
    void namesAreDocumented() throws IOException {
        Path file = dir.resolve("names.safetensors");
        try (DclsConv a1 = conv1().seed(1).build(); DclsConv a2 = conv2().seed(2).build();
             SGD sgd = SGD.builder().momentum(0.9).params(a1.parameters()).params(a2.parameters()).build()) {
            Map<String, DclsConv> layers = new LinkedHashMap<>();
            layers.put("layer1", a1);
            layers.put("layer2", a2);
            Checkpoint.save(file, layers, sgd);
            Safetensors.Contents c = Safetensors.read(file);
            assertEquals(List.of("layer1.weight", "layer1.P", "layer1.SIG", "layer1.bias", "layer2.weight",
                    "layer2.P", "optimizer.layer1.weight.momentum_buffer", "optimizer.layer1.P.momentum_buffer",
                    "optimizer.layer1.SIG.momentum_buffer", "optimizer.layer1.bias.momentum_buffer",
                    "optimizer.layer2.weight.momentum_buffer", "optimizer.layer2.P.momentum_buffer",
                    "optimizer.step"), new ArrayList<>(c.tensors().keySet()));
            assertEquals("dcls4j", c.metadata().get("format"));
            assertEquals(Safetensors.DType.I64, c.tensors().get("optimizer.step").dtype());
            assertEquals(Safetensors.DType.F32, c.tensors().get("layer1.P").dtype());
            assertArrayEquals(a1.positions().value().toFloatArray(), c.array("layer1.P").toFloatArray());
        }
        // a single layer: bare names
        Path single = dir.resolve("single.npz");
        try (DclsConv a = conv1().seed(1).build(); DclsConv b = conv1().seed(2).build()) {
            Checkpoint.save(single, a);
            assertEquals(List.of("__dcls4j_checkpoint__", "weight", "P", "SIG", "bias"),
                    new ArrayList<>(Npz.read(single).keySet()));
            Checkpoint.load(single, b);
            assertArrayEquals(a.positions().value().toFloatArray(), b.positions().value().toFloatArray());
            assertArrayEquals(a.bias().value().toFloatArray(), b.bias().value().toFloatArray());
        }
    }

    @Test
    void sharedPositionsRoundTrip() throws IOException {
        Path file = dir.resolve("shared.npz");
        try (DclsConv owner = conv1().seed(1).build(); DclsConv sharer = conv1().seed(2).sharePositionsWith(owner).build();
             AdamW opt = adam(owner, sharer);
             DclsConv owner2 = conv1().seed(3).build(); DclsConv sharer2 = conv1().seed(4).sharePositionsWith(owner2).build();
             AdamW opt2 = adam(owner2, sharer2)) {
            train(opt, 2, 1, owner, null);
            Map<String, DclsConv> l = new LinkedHashMap<>();
            l.put("a", owner);
            l.put("b", sharer);
            Map<String, DclsConv> l2 = new LinkedHashMap<>();
            l2.put("a", owner2);
            l2.put("b", sharer2);
            Checkpoint.save(file, l, opt);
            assertTrue(Npz.read(file).containsKey("b.P"));
            assertTrue(!Npz.read(file).containsKey("optimizer.b.P.exp_avg"));   // state under the first name
            Checkpoint.load(file, l2, opt2);
            assertSameState(snapshot(l, opt), snapshot(l2, opt2));
        }
    }

    // ------------------------------------------------------------------------------------------ NumPy and the spec

    private static String python(String script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(PYTHON, "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out.trim();
    }

    private static boolean numpyAvailable() {
        try {
            return new ProcessBuilder(PYTHON, "-c", "import numpy").start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    @Test
    void numpyReadsOurNpz() throws Exception {
        assumeTrue(numpyAvailable(), "python3 with numpy");
        Path file = dir.resolve("ours.npz");
        try (DclsConv a = conv1().seed(1).build(); AdamW opt = adam(a)) {
            train(opt, 3, 5, a, null);
            Checkpoint.save(file, Map.of("conv", a), opt);
            String out = python("import numpy as np\n"
                    + "d = np.load('" + file + "')\n"
                    + "print(sorted(d.files))\n"
                    + "print(d['conv.P'].shape, repr(float(d['conv.P'].astype(np.float64).sum())))\n"
                    + "print(int(d['optimizer.step']), repr(float(d['optimizer.conv.P.exp_avg'][1, 2, 0, 1])))");
            String[] lines = out.split("\n");
            assertEquals("['__dcls4j_checkpoint__', 'conv.P', 'conv.SIG', 'conv.bias', 'conv.weight', "
                    + "'optimizer.conv.P.exp_avg', 'optimizer.conv.P.exp_avg_sq', 'optimizer.conv.SIG.exp_avg', "
                    + "'optimizer.conv.SIG.exp_avg_sq', 'optimizer.conv.bias.exp_avg', 'optimizer.conv.bias.exp_avg_sq', "
                    + "'optimizer.conv.weight.exp_avg', 'optimizer.conv.weight.exp_avg_sq', 'optimizer.step']", lines[0]);
            double sum = 0;
            for (float v : a.positions().value().toFloatArray()) {
                sum += v;
            }
            assertTrue(lines[1].startsWith("(2, 4, 3, 3) "), lines[1]);
            assertEquals(sum, Double.parseDouble(lines[1].substring(lines[1].indexOf(')') + 2)), 1e-9);
            String[] last = lines[2].split(" ");
            assertEquals("3", last[0]);
            // P is (ndim 2, Cout 4, Cin 3, K 3): index [1, 2, 0, 1]
            Tensor m = opt.state(a.positions(), "exp_avg");
            assertEquals(m.get(((1L * 4 + 2) * 3 + 0) * 3 + 1), Double.parseDouble(last[1]), 0);
        }
    }

    @Test
    void numpyAndPythonReadOurSafetensorsBySpec() throws Exception {
        assumeTrue(numpyAvailable(), "python3 with numpy");
        Path file = dir.resolve("ours.safetensors");
        try (DclsConv a = conv1().seed(1).build()) {
            Checkpoint.save(file, Map.of("conv", a), null);
            // an independent reader, from the spec: u64 length, JSON header, raw little-endian data
            String out = python("import json, struct, numpy as np\n"
                    + "b = open('" + file + "', 'rb').read()\n"
                    + "n = struct.unpack('<Q', b[:8])[0]\n"
                    + "assert n % 8 == 0\n"
                    + "h = json.loads(b[8:8 + n])\n"
                    + "meta = h.pop('__metadata__')\n"
                    + "e = h['conv.P']\n"
                    + "s, t = e['data_offsets']\n"
                    + "p = np.frombuffer(b[8 + n + s:8 + n + t], dtype='<f4').reshape(e['shape'])\n"
                    + "print(meta['format'], e['dtype'], list(p.shape), repr(float(p[1, 3, 2, 0])))");
            String[] f = out.split(" ");
            assertEquals("dcls4j", f[0]);
            assertEquals("F32", f[1]);
            float expected = a.positions().value().get(((1L * 4 + 3) * 3 + 2) * 3);
            assertEquals(expected, Float.parseFloat(out.substring(out.lastIndexOf(' ') + 1)));
        }
    }

    @Test
    void aReaderWrittenFromTheSpecReadsOurFile() throws IOException {
        Path file = dir.resolve("spec.safetensors");
        try (DclsConv a = conv1().seed(7).build(); SGD sgd = SGD.builder().momentum(0.5).params(a.parameters()).build()) {
            Checkpoint.save(file, Map.of("m", a), sgd);
            Map<String, float[]> read = SpecReader.read(file);
            assertArrayEquals(a.weight().value().toFloatArray(), read.get("m.weight"));
            assertArrayEquals(a.positions().value().toFloatArray(), read.get("m.P"));
            assertArrayEquals(a.sigma().value().toFloatArray(), read.get("m.SIG"));
            assertArrayEquals(a.bias().value().toFloatArray(), read.get("m.bias"));
            assertArrayEquals(new float[] {0f}, read.get("optimizer.step"));
        }
    }

    /** A minimal safetensors reader following the specification, independent of {@link Safetensors}. */
    static final class SpecReader {
        static Map<String, float[]> read(Path file) throws IOException {
            byte[] bytes = Files.readAllBytes(file);
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            long n = b.getLong(0);
            assertEquals(0, n % 8, "header padded to 8 bytes");
            String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
            assertTrue(header.startsWith("{"));
            assertEquals(header.strip().length(), header.stripTrailing().length());
            Map<String, float[]> out = new LinkedHashMap<>();
            // entries look like "name":{"dtype":"F32","shape":[...],"data_offsets":[b,e]}
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                    "\"([^\"]+)\":\\{\"dtype\":\"(\\w+)\",\"shape\":\\[([0-9,]*)\\],\"data_offsets\":\\[(\\d+),(\\d+)\\]\\}")
                    .matcher(header);
            long covered = 0;
            while (m.find()) {
                String dtype = m.group(2);
                int begin = Integer.parseInt(m.group(4));
                int end = Integer.parseInt(m.group(5));
                long count = 1;
                for (String s : m.group(3).isEmpty() ? new String[0] : m.group(3).split(",")) {
                    count *= Long.parseLong(s);
                }
                int size = dtype.equals("F32") ? 4 : 8;
                assertEquals(count * size, end - begin, m.group(1));
                float[] v = new float[(int) count];
                for (int i = 0; i < count; i++) {
                    int at = (int) (8 + n + begin + (long) i * size);
                    v[i] = switch (dtype) {
                        case "F32" -> b.getFloat(at);
                        case "I64" -> b.getLong(at);
                        default -> throw new AssertionError(dtype);
                    };
                }
                out.put(m.group(1), v);
                covered += end - begin;
            }
            assertEquals(bytes.length - 8 - n, covered, "the data is covered exactly");
            return out;
        }
    }

    @Test
    void filesWrittenByNumpyLoad() throws Exception {
        assumeTrue(numpyAvailable(), "python3 with numpy");
        try (DclsConv a = conv1().seed(1).build(); DclsConv b = conv1().seed(2).build()) {
            // 1. a dcls4j checkpoint (our convention, with the marker) written by numpy, float32
            Path ours = dir.resolve("numpy-ours.npz");
            python("import numpy as np\n"
                    + "r = np.random.default_rng(0)\n"
                    + "np.savez('" + ours + "', __dcls4j_checkpoint__=np.array([1.0]),"
                    + " weight=np.arange(36, dtype=np.float32).reshape(4, 3, 3) / 10,"
                    + " P=np.linspace(-2, 2, 72, dtype=np.float32).reshape(2, 4, 3, 3),"
                    + " SIG=np.full((2, 4, 3, 3), 0.5, dtype=np.float32), bias=np.array([1, 2, 3, 4], dtype=np.float32))");
            Checkpoint.load(ours, a);
            assertEquals(3.5f, a.weight().value().get(35), 1e-6);
            assertEquals(-2f, a.positions().value().get(0), 1e-6);
            assertEquals(2f, a.positions().value().get(71), 1e-6);
            assertEquals(0.5f, a.sigma().value().get(17));
            assertEquals(4f, a.bias().value().get(3));

            // 2. a PyTorch-reference state_dict (reference axis order) saved with numpy.savez_compressed
            Path ref = dir.resolve("numpy-reference.npz");
            python("import numpy as np\n"
                    + "P = np.zeros((2, 4, 3, 3)); P[0] = 1.0; P[1] = -2.0\n"
                    + "np.savez_compressed('" + ref + "', **{'layer.weight': np.ones((4, 3, 3)),"
                    + " 'layer.P': P, 'layer.SIG': np.zeros((2, 4, 3, 3)), 'layer.bias': np.zeros(4),"
                    + " 'other.weight': np.zeros(3)})");
            Checkpoint.importReference(ref, "layer", b);
            // gauss 2D: the reference's P[0] moves along axis 1, P[1] along axis 0 (centre offsets 5/2 vs 7/2)
            float[] p = b.positions().value().toFloatArray();
            assertEquals(-2f + 2 - 3, p[0], 1e-6);           // ours[0] = ref[1] + dks[1]/2 - dks[0]/2
            assertEquals(1f + 3 - 2, p[36], 1e-6);           // ours[1] = ref[0] + dks[0]/2 - dks[1]/2
        }
    }

    @Test
    void importsGoldenReferenceFiles() throws IOException {
        Path golden = Path.of(System.getProperty("dcls4j.golden.dir", "../shared/golden"));
        for (String name : new String[] {"d2_gauss_g1", "d1_v0_g1", "d2_v1_g1", "d2_max_g1_s2"}) {
            Path npz = golden.resolve(name + ".npz");
            assumeTrue(Files.exists(npz), "golden file " + npz);
            Map<String, NdArray> g = Npz.read(npz);
            long[] pShape = g.get("P").shape();
            long[] kShape = g.get("K").shape();
            int ndim = (int) pShape[0];
            int[] dks = new int[ndim];
            for (int d = 0; d < ndim; d++) {
                dks[d] = (int) kShape[2 + d];
            }
            String json = Files.readString(golden.resolve(name + ".json"));
            Interpolation interpolation = Interpolation.fromReferenceName(
                    json.replaceAll("(?s).*\"version\": \"(\\w+)\".*", "$1"));
            int groups = Integer.parseInt(json.replaceAll("(?s).*\"groups\": (\\d+).*", "$1"));
            int in = (int) g.get("x").shape()[1];
            try (DclsConv conv = DclsConv.builder(in, (int) pShape[1]).groups(groups).kernelCount((int) pShape[3])
                    .dilatedKernelSize(dks).interpolation(interpolation).bias(g.containsKey("bias")).build()) {
                Checkpoint.importReference(npz, conv);
                float[] k = conv.buildKernel().toFloatArray();
                double[] expected = g.get("K").data();
                for (int i = 0; i < k.length; i++) {
                    assertEquals(expected[i], k[i], 1e-5, name + " K[" + i + "]");
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------ bad files

    private static void failsAndLeavesUnchanged(Class<? extends Throwable> type, String fragment,
                                                Map<String, DclsConv> layers, Optimizer opt, Executable call) {
        Map<String, float[]> before = snapshot(layers, opt);
        long steps = opt == null ? 0 : opt.steps();
        Throwable t = assertThrows(type, call);
        assertTrue(t.getMessage() != null && t.getMessage().contains(fragment),
                "message '" + t.getMessage() + "' should mention '" + fragment + "'");
        assertSameState(before, snapshot(layers, opt));
        if (opt != null) {
            assertEquals(steps, opt.steps());
        }
    }

    private static void write(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes);
    }

    private static byte[] safetensors(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return b.array();
    }

    @Test
    void corruptTruncatedAndMismatchedFilesFailCleanly() throws IOException {
        try (DclsConv a = conv1().seed(1).build(); DclsConv other = conv1().seed(9).build();
             AdamW opt = adam(a); DclsConv small = DclsConv.builder(3, 4).kernelCount(2).dilatedKernelSize(7, 5).build()) {
            Map<String, DclsConv> layers = Map.of("conv", a);
            train(opt, 2, 3, a, null);
            for (String ext : new String[] {".npz", ".safetensors"}) {
                Path good = dir.resolve("good" + ext);
                try (AdamW o = adam(other)) {
                    train(o, 1, 4, other, null);
                    Checkpoint.save(good, Map.of("conv", other), o);
                }
                byte[] bytes = Files.readAllBytes(good);

                Path truncated = dir.resolve("truncated" + ext);
                write(truncated, Arrays.copyOf(bytes, bytes.length - 100));
                failsAndLeavesUnchanged(IOException.class, ext.equals(".npz") ? "" : "truncated", layers, opt,
                        () -> Checkpoint.load(truncated, layers, opt));

                Path flipped = dir.resolve("flipped" + ext);
                byte[] corrupt = bytes.clone();
                corrupt[corrupt.length / 2] ^= 0x55;                // npz: CRC; safetensors: may stay valid data
                if (ext.equals(".npz")) {
                    write(flipped, corrupt);
                    failsAndLeavesUnchanged(IOException.class, "", layers, opt,
                            () -> Checkpoint.load(flipped, layers, opt));
                }

                Path garbage = dir.resolve("garbage" + ext);
                write(garbage, "this is not a checkpoint at all".getBytes(StandardCharsets.UTF_8));
                failsAndLeavesUnchanged(IOException.class, "", layers, opt,
                        () -> Checkpoint.load(garbage, layers, opt));

                Path empty = dir.resolve("empty" + ext);
                write(empty, new byte[0]);
                failsAndLeavesUnchanged(IOException.class, "", layers, opt, () -> Checkpoint.load(empty, layers, opt));

                failsAndLeavesUnchanged(IllegalArgumentException.class, "unexpected [conv.weight, conv.P", layers, opt,
                        () -> Checkpoint.load(good, Map.of("renamed", a), null));
                failsAndLeavesUnchanged(IllegalArgumentException.class, "has shape [4, 3, 3], expected [4, 3, 2]",
                        Map.of("conv", small), null, () -> Checkpoint.load(good, Map.of("conv", small), null));
                try (SGD sgd = SGD.builder().momentum(0.9).params(a.parameters()).build()) {
                    failsAndLeavesUnchanged(IllegalArgumentException.class, "missing 'optimizer.conv.weight.momentum_buffer'",
                            layers, sgd, () -> Checkpoint.load(good, layers, sgd));
                }
                failsAndLeavesUnchanged(IOException.class, "", layers, opt,
                        () -> Checkpoint.load(dir.resolve("missing" + ext), layers, opt));
            }
            // without optimizer state in the file
            Path noOpt = dir.resolve("noopt.npz");
            Checkpoint.save(noOpt, Map.of("conv", other), null);
            failsAndLeavesUnchanged(IllegalArgumentException.class, "missing 'optimizer.step'", layers, opt,
                    () -> Checkpoint.load(noOpt, layers, opt));
            // a plain state_dict (no marker) is not taken for a dcls4j checkpoint
            Path plain = dir.resolve("plain.npz");
            Npz.write(plain, Map.of("weight", NdArray.of(new double[36], 4, 3, 3)), true);
            failsAndLeavesUnchanged(IllegalArgumentException.class, "importReference", Map.of("", a), null,
                    () -> Checkpoint.load(plain, a));
            // the reference import checks names and shapes before writing anything
            failsAndLeavesUnchanged(IllegalArgumentException.class, "missing 'P'", Map.of("", a), null,
                    () -> Checkpoint.importReference(plain, a));
            assertThrows(IllegalArgumentException.class, () -> Checkpoint.save(dir.resolve("x.bin"), a));
        }
    }

    @Test
    void badSafetensorsHeadersFailCleanly() throws IOException {
        try (DclsConv a = DclsConv.builder(1, 1).kernelCount(1).dilatedKernelSize(3).bias(false)
                .interpolation(Interpolation.BILINEAR).seed(1).build()) {
            Map<String, DclsConv> layers = Map.of("", a);
            byte[] w = new byte[4];
            byte[] wp = new byte[8];
            String meta = "\"__metadata__\":{\"format\":\"dcls4j\",\"dcls4j.checkpoint\":\"1\"}";
            String[][] cases = {
                    {"{" + meta + ",\"weight\":{\"dtype\":\"F32\",\"shape\":[1,1,1],\"data_offsets\":[0,4]},"
                            + "\"P\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1],\"data_offsets\":[8,12]}}", "a hole"},
                    {"{" + meta + ",\"weight\":{\"dtype\":\"F32\",\"shape\":[1,1,1],\"data_offsets\":[0,4]},"
                            + "\"P\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1],\"data_offsets\":[0,4]}}", "overlaps"},
                    {"{" + meta + ",\"weight\":{\"dtype\":\"F32\",\"shape\":[1,1,2],\"data_offsets\":[0,4]}}",
                            "needs 8"},
                    {"{" + meta + ",\"weight\":{\"dtype\":\"X9\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                            "unsupported dtype"},
                    {"{" + meta + ",\"weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                            + "\"weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "duplicate key"},
                    {"{" + meta + ",\"weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", "expected"},
                    {"[1, 2]", "does not start with '{'"},
            };
            for (String[] c : cases) {
                Path f = dir.resolve("bad.safetensors");
                write(f, safetensors(c[0], c[0].contains("[8,12]") || c[0].contains("[4,8]") ? new byte[12] : w));
                failsAndLeavesUnchanged(IOException.class, c[1], layers, null, () -> Checkpoint.load(f, a));
            }
            // trailing bytes after the last tensor
            Path trailing = dir.resolve("trailing.safetensors");
            write(trailing, safetensors("{" + meta + ",\"weight\":{\"dtype\":\"F32\",\"shape\":[1,1,1],"
                    + "\"data_offsets\":[0,4]},\"P\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1],\"data_offsets\":[4,8]}}",
                    new byte[12]));
            failsAndLeavesUnchanged(IOException.class, "after the last tensor", layers, null,
                    () -> Checkpoint.load(trailing, a));
            // a header length beyond the file
            Path longHeader = dir.resolve("long.safetensors");
            byte[] lh = safetensors("{}", new byte[0]);
            ByteBuffer.wrap(lh).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000);
            write(longHeader, lh);
            failsAndLeavesUnchanged(IOException.class, "truncated", layers, null, () -> Checkpoint.load(longHeader, a));
            // a valid file with F64 values loads, values are rounded to float
            Path f64 = dir.resolve("f64.safetensors");
            ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.25).putDouble(-1.5);
            write(f64, safetensors("{" + meta + ",\"weight\":{\"dtype\":\"F64\",\"shape\":[1,1,1],"
                    + "\"data_offsets\":[0,8]},\"P\":{\"dtype\":\"F64\",\"shape\":[1,1,1,1],\"data_offsets\":[8,16]}}"
                    + "    ", data.array()));
            Checkpoint.load(f64, a);
            assertEquals(0.25f, a.weight().value().get(0));
            assertEquals(-1.5f, a.positions().value().get(0));
        }
    }

    @Test
    void safetensorsRoundTripOfEveryWritableType() throws IOException {
        Path f = dir.resolve("types.safetensors");
        Map<String, Safetensors.Entry> t = new LinkedHashMap<>();
        t.put("a", new Safetensors.Entry(Safetensors.DType.F64, NdArray.of(new double[] {Math.PI, -0.0, 1e300}, 3)));
        t.put("b", Safetensors.Entry.f32(NdArray.of(new double[] {1.5, 2.5, 3.5, 4.5}, 2, 2)));
        t.put("c", new Safetensors.Entry(Safetensors.DType.I64, NdArray.of(new double[] {1L << 40}, new long[0])));
        t.put("empty", Safetensors.Entry.f32(NdArray.of(new double[0], 0, 3)));
        t.put("ünïcode \"quoted\"", Safetensors.Entry.f32(NdArray.vector(7)));
        Safetensors.write(f, t, Map.of("k", "v\n\"x\""));
        Safetensors.Contents c = Safetensors.read(f);
        assertEquals(t.keySet(), c.tensors().keySet());
        for (String k : t.keySet()) {
            assertEquals(t.get(k), c.tensors().get(k), k);
        }
        assertEquals(Map.of("k", "v\n\"x\""), c.metadata());
        byte[] bytes = Files.readAllBytes(f);
        assertEquals(0, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0) % 8, "8-byte aligned data");
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(f,
                Map.of("x", new Safetensors.Entry(Safetensors.DType.I64, NdArray.vector(0.5))), null));
    }

    @Test
    void optimizerParametersMustBelongToTheLayersGiven() {
        try (DclsConv a = conv1().seed(1).build(); DclsConv b = conv1().seed(2).build(); AdamW opt = adam(a, b)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Checkpoint.save(dir.resolve("x.npz"), Map.of("a", a), opt));
            assertTrue(e.getMessage().contains("belongs to none of the layers"), e.getMessage());
            Parameter unused = b.weight();
            assertTrue(opt.contains(unused));
            assertThrows(IllegalArgumentException.class, () -> Checkpoint.save(dir.resolve("x.npz"),
                    Map.of("optimizer", a), null));
        }
    }
}
