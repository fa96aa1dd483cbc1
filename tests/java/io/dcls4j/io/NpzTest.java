package io.dcls4j.io;

import io.dcls4j.GoldenCase;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class NpzTest {

    @TempDir
    Path tmp;

    private static Map<String, NdArray> sampleArrays() {
        Random random = new Random(1);
        Map<String, NdArray> arrays = new LinkedHashMap<>();
        arrays.put("weight", NdArray.of(random.doubles(24).toArray(), 2L, 3L, 4L));
        arrays.put("bias", NdArray.vector(Math.PI, -0.0, 1e-300, Double.MAX_VALUE, Double.NaN,
                Double.POSITIVE_INFINITY));
        arrays.put("scalar", NdArray.of(new double[]{42.5}));
        arrays.put("empty", NdArray.of(new double[0], 0L, 3L));
        arrays.put("layer.0/P", NdArray.of(random.doubles(3 * 5 * 2 * 1 * 7).toArray(), 3, 5, 2, 1, 7));
        return arrays;
    }

    // ------------------------------------------------------------------------------------------ round trips

    @Test
    void float64RoundTripIsExact() throws IOException {
        for (boolean compressed : new boolean[]{false, true}) {
            Path file = tmp.resolve("a" + compressed + ".npz");
            Map<String, NdArray> arrays = sampleArrays();
            Npz.write(file, arrays, false, compressed);
            Map<String, NdArray> back = Npz.read(file);
            assertEquals(new ArrayList<>(arrays.keySet()), new ArrayList<>(back.keySet()));
            for (String key : arrays.keySet()) {
                assertEquals(arrays.get(key), back.get(key), key);
            }
            try (ZipFile zip = new ZipFile(file.toFile())) {
                ZipEntry entry = zip.getEntry("weight.npy");
                assertNotNull(entry);
                assertEquals(compressed ? ZipEntry.DEFLATED : ZipEntry.STORED, entry.getMethod());
            }
        }
    }

    @Test
    void float32RoundTripRoundsToFloat() throws IOException {
        Path file = tmp.resolve("f.npz");
        Map<String, NdArray> arrays = sampleArrays();
        Npz.write(file, arrays, true);
        Map<String, NdArray> back = Npz.read(file);
        for (String key : arrays.keySet()) {
            NdArray a = arrays.get(key);
            NdArray b = back.get(key);
            assertArrayEquals(a.shape(), b.shape(), key);
            assertArrayEquals(a.toFloatArray(), b.toFloatArray(), 0f, key);
            for (int i = 0; i < a.size(); i++) {
                assertEquals((double) (float) a.data()[i], b.data()[i], 0.0);
            }
        }
        // 4 bytes per value: the weight entry is 128 bytes of header (as numpy's, with room to grow) + 24 * 4 bytes
        try (ZipFile zip = new ZipFile(file.toFile())) {
            assertEquals(128 + 24 * 4, zip.getEntry("weight.npy").getSize());
            assertEquals(Npy.byteSize(arrays.get("weight"), true), zip.getEntry("weight.npy").getSize());
        }
    }

    @Test
    void npyHeaderIsPaddedTo64BytesAsNumpyDoes() throws IOException {
        for (long[] shape : new long[][]{{}, {7}, {2, 3}, {1, 2, 1, 3, 1, 1, 2, 1, 1, 1, 1, 2}, {0, 5}}) {
            long n = 1;
            for (long s : shape) {
                n *= s;
            }
            NdArray a = NdArray.of(new double[(int) n], shape);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Npy.write(out, a, false);
            byte[] bytes = out.toByteArray();
            int headerLength = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
            assertEquals(0, (10 + headerLength) % 64);
            assertEquals('\n', bytes[10 + headerLength - 1]);
            assertEquals(10 + headerLength + 8 * n, bytes.length);
            assertEquals(bytes.length, Npy.byteSize(a, false));
            assertEquals(a, Npy.read(new ByteArrayInputStream(bytes)));
        }
    }

    @Test
    void npyFileRoundTrip() throws IOException {
        Path file = tmp.resolve("x.npy");
        NdArray a = NdArray.of(new double[]{1, 2, 3, 4, 5, 6}, 3L, 2L);
        Npy.write(file, a, false);
        assertEquals(a, Npy.read(file));
    }

    @Test
    void writeReplacesAnExistingFileAndLeavesNoTemporaries() throws IOException {
        Path file = tmp.resolve("ckpt.npz");
        Npz.write(file, Map.of("a", NdArray.vector(1, 2)), false);
        Npz.write(file, Map.of("b", NdArray.vector(3)), true);
        assertEquals(Map.of("b", NdArray.vector(3)), Npz.read(file));
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    // ------------------------------------------------------------------------------------------ formats read

    /** A .npy file with the given header dict and raw data, in format version 1.0 or 2.0. */
    private static byte[] npy(String dict, byte[] data, int version) {
        StringBuilder header = new StringBuilder(dict);
        int prefix = version == 1 ? 10 : 12;
        while ((prefix + header.length() + 1) % 64 != 0) {
            header.append(' ');
        }
        header.append('\n');
        ByteBuffer b = ByteBuffer.allocate(prefix + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) version).put((byte) 0);
        if (version == 1) {
            b.putShort((short) header.length());
        } else {
            b.putInt(header.length());
        }
        b.put(header.toString().getBytes(StandardCharsets.ISO_8859_1)).put(data);
        return b.array();
    }

    private static NdArray readNpy(byte[] bytes) throws IOException {
        return Npy.read(new ByteArrayInputStream(bytes));
    }

    @Test
    void readsOtherDtypesByteOrdersAndVersions() throws IOException {
        ByteBuffer f4 = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).putFloat(0.1f);
        assertArrayEquals(new double[]{1.5, -2, 0.1f},
                readNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f4.array(), 1)).data());

        ByteBuffer i8 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-7).putLong(1L << 40);
        assertArrayEquals(new double[]{-7, 1L << 40},
                readNpy(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", i8.array(), 1)).data());

        ByteBuffer i4 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(-3).putInt(5);
        NdArray a = readNpy(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }", i4.array(), 2));
        assertArrayEquals(new long[]{1, 2}, a.shape());
        assertArrayEquals(new double[]{-3, 5}, a.data());

        ByteBuffer be = ByteBuffer.allocate(16).order(ByteOrder.BIG_ENDIAN).putDouble(Math.E).putDouble(-1e10);
        assertArrayEquals(new double[]{Math.E, -1e10},
                readNpy(npy("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", be.array(), 1)).data());

        assertArrayEquals(new double[]{255, 1},
                readNpy(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", new byte[]{-1, 1}, 1)).data());
        assertArrayEquals(new double[]{1, 0},
                readNpy(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", new byte[]{1, 0}, 1)).data());

        // 0-d array and double-quoted keys, keys in another order
        ByteBuffer one = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(3.25);
        NdArray scalar = readNpy(npy("{\"shape\": (), \"fortran_order\": False, \"descr\": \"<f8\"}", one.array(), 1));
        assertEquals(0, scalar.ndim());
        assertArrayEquals(new double[]{3.25}, scalar.data());
    }

    @Test
    void readsFortranOrderIntoCOrder() throws IOException {
        // C-order a[i][j][k] = 100 i + 10 j + k for shape (2, 3, 4), stored in Fortran order (i fastest).
        ByteBuffer b = ByteBuffer.allocate(24 * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < 4; k++) {
            for (int j = 0; j < 3; j++) {
                for (int i = 0; i < 2; i++) {
                    b.putDouble(100 * i + 10 * j + k);
                }
            }
        }
        NdArray a = readNpy(npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3, 4), }", b.array(), 1));
        assertArrayEquals(new long[]{2, 3, 4}, a.shape());
        for (int i = 0, n = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                for (int k = 0; k < 4; k++) {
                    assertEquals(100 * i + 10 * j + k, a.data()[n++], 0.0);
                }
            }
        }
    }

    @Test
    void readsTheGoldenArchives() throws IOException {
        // Includes d1_gauss_dw_border's K, which the generator stored in Fortran order.
        for (String name : GoldenCase.names()) {
            Map<String, NdArray> arrays = Npz.read(GoldenCase.dir().resolve(name + ".npz"));
            GoldenCase g = GoldenCase.load(name);
            @SuppressWarnings("unchecked")
            Map<String, Object> shapes = (Map<String, Object>) g.config.get("arrays");
            assertEquals(shapes.keySet(), arrays.keySet(), name);
            for (String key : shapes.keySet()) {
                long[] expected = ((List<?>) shapes.get(key)).stream().mapToLong(o -> (Long) o).toArray();
                assertArrayEquals(expected, arrays.get(key).shape(), name + "/" + key);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ errors

    private static void assertIOException(byte[] npyBytes, String messagePart) {
        IOException e = assertThrows(IOException.class, () -> readNpy(npyBytes));
        assertTrue(e.getMessage().contains(messagePart), e.getMessage());
    }

    @Test
    void rejectsMalformedNpyWithClearMessages() {
        byte[] data = new byte[16];
        assertIOException("hello world, not numpy".getBytes(StandardCharsets.US_ASCII), "magic");
        byte[] v9 = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", data, 1);
        v9[6] = 9;
        assertIOException(v9, "version 9.0");
        assertIOException(npy("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", data, 1), "<c16");
        assertIOException(npy("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", data, 1),
                "structured");
        assertIOException(npy("{'descr': '<f8', 'shape': (2,), }", data, 1), "fortran_order");
        assertIOException(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }", data, 1), "shape");
        assertIOException(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,, }", data, 1), "header");
        assertIOException(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data, 1), "truncated");
        assertIOException(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }",
                data, 1), "overflow");
        assertIOException(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,), }", data, 1),
                "too large");
        assertIOException(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000,), }", data, 1),
                "truncated");
    }

    @Test
    void everyTruncationOfAnNpyIsAnIOException() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npy.write(out, NdArray.of(new double[]{1, 2, 3, 4, 5, 6}, 2L, 3L), false);
        byte[] full = out.toByteArray();
        for (int n = 0; n < full.length; n++) {
            byte[] cut = java.util.Arrays.copyOf(full, n);
            assertThrows(IOException.class, () -> readNpy(cut), "length " + n);
        }
    }

    @Test
    void everyTruncationOfAnNpzIsAnIOException() throws IOException {
        for (boolean compressed : new boolean[]{false, true}) {
            Path file = tmp.resolve("t.npz");
            Npz.write(file, Map.of("a", NdArray.of(new double[]{1, 2, 3, 4, 5, 6}, 2L, 3L),
                    "b", NdArray.vector(7, 8)), false, compressed);
            byte[] full = Files.readAllBytes(file);
            Path cut = tmp.resolve("cut.npz");
            for (int n = 0; n < full.length; n++) {
                Files.write(cut, java.util.Arrays.copyOf(full, n));
                IOException e = assertThrows(IOException.class, () -> Npz.read(cut), "length " + n);
                assertTrue(e.getMessage().contains("cut.npz"), e.getMessage());
            }
        }
    }

    @Test
    void corruptedNpzIsReadOrRejectedButNeverCrashes() throws IOException {
        Path file = tmp.resolve("c.npz");
        Random random = new Random(99);
        for (boolean compressed : new boolean[]{false, true}) {
            Npz.write(file, sampleArrays(), false, compressed);
            byte[] full = Files.readAllBytes(file);
            Path bad = tmp.resolve("bad.npz");
            int rejected = 0;
            for (int trial = 0; trial < 2000; trial++) {
                byte[] copy = full.clone();
                int flips = 1 + random.nextInt(3);
                for (int f = 0; f < flips; f++) {
                    copy[random.nextInt(copy.length)] ^= (byte) (1 + random.nextInt(255));
                }
                Files.write(bad, copy);
                try {
                    Npz.read(bad);
                } catch (IOException e) {
                    rejected++;
                } catch (RuntimeException | OutOfMemoryError e) {
                    fail("trial " + trial + ": " + e, e);
                }
            }
            assertTrue(rejected > 1000, "only " + rejected + " corruptions detected");
        }
    }

    @Test
    void corruptedEntryDataIsCaughtByTheCrc() throws IOException {
        Path file = tmp.resolve("crc.npz");
        Npz.write(file, Map.of("w", NdArray.vector(1, 2, 3, 4)), false, false);
        byte[] bytes = Files.readAllBytes(file);
        // flip a byte in the last data value of the only (stored) entry: found by its little-endian pattern
        byte[] four = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(4.0).array();
        int at = indexOf(bytes, four);
        assertTrue(at > 0);
        bytes[at + 7] ^= 0x01;
        Files.write(file, bytes);
        IOException e = assertThrows(IOException.class, () -> Npz.read(file));
        assertTrue(e.getMessage().contains("CRC") && e.getMessage().contains("w.npy"), e.getMessage());
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void rejectsNonArchivesAndBadEntries() throws IOException {
        Path text = tmp.resolve("text.npz");
        Files.writeString(text, "definitely not a zip file");
        IOException e = assertThrows(IOException.class, () -> Npz.read(text));
        assertTrue(e.getMessage().contains("text.npz"), e.getMessage());

        Path missing = tmp.resolve("missing.npz");
        assertThrows(IOException.class, () -> Npz.read(missing));

        Path badEntry = tmp.resolve("entry.npz");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(badEntry))) {
            zip.putNextEntry(new ZipEntry("x.npy"));
            zip.write("not an array".getBytes(StandardCharsets.US_ASCII));
            zip.closeEntry();
        }
        e = assertThrows(IOException.class, () -> Npz.read(badEntry));
        assertTrue(e.getMessage().contains("x.npy") && e.getMessage().contains("magic"), e.getMessage());
    }

    @Test
    void rejectsBadArraysAndNames() {
        assertThrows(IllegalArgumentException.class, () -> NdArray.of(new double[5], 2L, 3L));
        assertThrows(IllegalArgumentException.class, () -> NdArray.of(new double[0], -1L));
        assertThrows(IllegalArgumentException.class,
                () -> Npz.write(tmp.resolve("n.npz"), Map.of("", NdArray.vector(1)), false));
        assertFalse(Files.exists(tmp.resolve("n.npz")));
    }

    // ------------------------------------------------------------------------------------------ numpy interop

    private static final String PYTHON = "/usr/bin/python3";

    private static boolean numpyAvailable() {
        try {
            return python("import numpy").exitCode == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private record Result(int exitCode, String output) {
    }

    private static Result python(String script, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(PYTHON, "-c", script));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("python timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void numpyReadsWhatWeWrite() throws IOException {
        Assumptions.assumeTrue(numpyAvailable(), "numpy is not installed for " + PYTHON);
        for (boolean float32 : new boolean[]{false, true}) {
            for (boolean compressed : new boolean[]{false, true}) {
                Path file = tmp.resolve("j" + float32 + compressed + ".npz");
                Map<String, NdArray> arrays = new LinkedHashMap<>();
                double[] values = new double[24];
                for (int i = 0; i < values.length; i++) {
                    values[i] = i * 0.5 - 3;
                }
                arrays.put("a", NdArray.of(values, 2L, 3L, 4L));
                arrays.put("s", NdArray.of(new double[]{7.25}));
                arrays.put("e", NdArray.of(new double[0], 0L));
                Npz.write(file, arrays, float32, compressed);
                String script = """
                        import sys, numpy as np
                        d = np.load(sys.argv[1])
                        dt = np.float32 if sys.argv[2] == 'true' else np.float64
                        assert list(d.keys()) == ['a', 's', 'e'], list(d.keys())
                        a = d['a']
                        assert a.dtype == dt and a.shape == (2, 3, 4) and a.flags.c_contiguous, (a.dtype, a.shape)
                        assert np.array_equal(a, (np.arange(24) * 0.5 - 3).reshape(2, 3, 4).astype(dt))
                        assert d['s'].shape == () and d['s'] == 7.25
                        assert d['e'].shape == (0,)
                        print('ok')
                        """;
                Result r = python(script, file.toString(), Boolean.toString(float32));
                assertEquals(0, r.exitCode, r.output);
            }
        }
    }

    @Test
    void ourNpyHeaderIsByteIdenticalToNumpys() throws IOException {
        Assumptions.assumeTrue(numpyAvailable(), "numpy is not installed for " + PYTHON);
        Path ours = tmp.resolve("ours.npy");
        Path theirs = tmp.resolve("theirs.npy");
        Npy.write(ours, NdArray.of(new double[]{1, 2, 3, 4, 5, 6}, 2L, 3L), false);
        Result r = python("import sys, numpy as np; np.save(sys.argv[1], np.arange(1., 7.).reshape(2, 3))",
                theirs.toString());
        assertEquals(0, r.exitCode, r.output);
        assertArrayEquals(Files.readAllBytes(theirs), Files.readAllBytes(ours));
    }

    @Test
    void weReadWhatNumpyWrites() throws IOException {
        Assumptions.assumeTrue(numpyAvailable(), "numpy is not installed for " + PYTHON);
        Path plain = tmp.resolve("np.npz");
        Path compressed = tmp.resolve("npc.npz");
        Path v2 = tmp.resolve("v2.npy");
        String script = """
                import sys, numpy as np
                base = np.arange(24).reshape(2, 3, 4)
                arrays = {
                    'f8': base * 0.25, 'f4': (base * 0.25).astype(np.float32), 'f2': base.astype(np.float16),
                    'i8': base - 5, 'i4': (base - 5).astype(np.int32), 'i2': (base - 5).astype(np.int16),
                    'i1': (base - 5).astype(np.int8), 'u1': base.astype(np.uint8), 'u8': base.astype(np.uint64),
                    'b1': base % 3 == 0, 'be': (base * 0.25).astype('>f8'),
                    'fortran': np.asfortranarray(base * 0.25), 'transposed': (base * 0.25).transpose(2, 0, 1),
                    'scalar': np.float64(2.5), 'empty': np.zeros((0, 4)),
                }
                np.savez(sys.argv[1], **arrays)
                np.savez_compressed(sys.argv[2], **arrays)
                with open(sys.argv[3], 'wb') as f:
                    np.lib.format.write_array(f, base * 0.25, version=(2, 0))
                """;
        Result r = python(script, plain.toString(), compressed.toString(), v2.toString());
        assertEquals(0, r.exitCode, r.output);

        double[] base = new double[24];
        for (int i = 0; i < 24; i++) {
            base[i] = i;
        }
        for (Path file : new Path[]{plain, compressed}) {
            Map<String, NdArray> d = Npz.read(file);
            assertArrayEquals(scaled(base, 0.25, 0), d.get("f8").data());
            assertArrayEquals(scaled(base, 0.25, 0), d.get("f4").data());
            assertArrayEquals(base, d.get("f2").data());
            for (String key : new String[]{"i8", "i4", "i2", "i1"}) {
                assertArrayEquals(scaled(base, 1, -5), d.get(key).data(), key);
            }
            assertArrayEquals(base, d.get("u1").data());
            assertArrayEquals(base, d.get("u8").data());
            assertArrayEquals(java.util.Arrays.stream(base).map(v -> v % 3 == 0 ? 1 : 0).toArray(),
                    d.get("b1").data());
            assertArrayEquals(scaled(base, 0.25, 0), d.get("be").data());
            assertArrayEquals(new long[]{2, 3, 4}, d.get("fortran").shape());
            assertArrayEquals(scaled(base, 0.25, 0), d.get("fortran").data());
            // transpose(2, 0, 1) of a C array is saved in Fortran order; read back as C order of shape (4, 2, 3)
            NdArray t = d.get("transposed");
            assertArrayEquals(new long[]{4, 2, 3}, t.shape());
            for (int k = 0; k < 4; k++) {
                for (int i = 0; i < 2; i++) {
                    for (int j = 0; j < 3; j++) {
                        assertEquals(0.25 * (12 * i + 4 * j + k), t.data()[(k * 2 + i) * 3 + j], 0.0);
                    }
                }
            }
            assertEquals(NdArray.of(new double[]{2.5}), d.get("scalar"));
            assertArrayEquals(new long[]{0, 4}, d.get("empty").shape());
        }
        assertArrayEquals(scaled(base, 0.25, 0), Npy.read(v2).data());
    }

    private static double[] scaled(double[] v, double scale, double offset) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = v[i] * scale + offset;
        }
        return r;
    }
}
