package io.dcls4j.checkpoint;

import io.dcls4j.DclsConv;
import io.dcls4j.Tensor;
import io.dcls4j.io.NdArray;
import io.dcls4j.io.Npz;
import io.dcls4j.optim.AdamW;
import io.dcls4j.optim.ParamGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checkpoint edge cases of issue 10, finding 5 (a) to (g): each failed before its fix. */
class CheckpointEdgeCaseTest {
    @TempDir
    Path dir;

    private static DclsConv.Builder conv() {
        return DclsConv.builder(2, 3).kernelCount(2).dilatedKernelSize(5).padding(2);
    }

    private static AdamW adam(DclsConv... layers) {
        return AdamW.builder().lr(0.01).groups(ParamGroup.dcls(5, layers)).build();
    }

    private static void step(AdamW opt, DclsConv... layers) {
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = Tensor.allocate(arena, 1, 2, 9);
            for (long i = 0; i < x.elementCount(); i++) {
                x.set(i, (float) Math.sin(i));
            }
            for (DclsConv l : layers) {
                l.backward(l.forward(x));
            }
            opt.step();
            opt.zeroGrad();
        }
    }

    private static Map<String, DclsConv> ordered(String n1, DclsConv l1, String n2, DclsConv l2) {
        Map<String, DclsConv> m = new LinkedHashMap<>();
        m.put(n1, l1);
        m.put(n2, l2);
        return m;
    }

    /** (a) Optimizer-state names of shared positions must not depend on the order of the map given. */
    @Test
    void optimizerNamesDoNotDependOnMapOrder() throws IOException {
        Path file = dir.resolve("shared.npz");
        try (DclsConv owner = conv().seed(1).build(); DclsConv sharer = conv().seed(2).sharePositionsWith(owner).build();
             AdamW opt = adam(owner, sharer);
             DclsConv owner2 = conv().seed(3).build(); DclsConv sharer2 = conv().seed(4).sharePositionsWith(owner2).build();
             AdamW opt2 = adam(owner2, sharer2)) {
            step(opt, owner, sharer);
            // saved with one iteration order, loaded with the other (as Map.of does between JVMs)
            Checkpoint.save(file, ordered("sharer", sharer, "owner", owner), opt);
            Checkpoint.load(file, ordered("owner", owner2, "sharer", sharer2), opt2);
            assertArrayEquals(opt.state(owner.positions(), "exp_avg").toFloatArray(),
                    opt2.state(owner2.positions(), "exp_avg").toFloatArray());
            // and the same names whatever the order
            Path other = dir.resolve("other.npz");
            Checkpoint.save(other, ordered("owner", owner, "sharer", sharer), opt);
            assertEquals(Npz.read(file).keySet().stream().sorted().toList(),
                    Npz.read(other).keySet().stream().sorted().toList());
        }
    }

    /** (a) A file written by the old rule (state under the first name in map order) still loads. */
    @Test
    void optimizerStateLoadsUnderAnyAlias() throws IOException {
        Path file = dir.resolve("alias.npz");
        try (DclsConv owner = conv().seed(1).build(); DclsConv sharer = conv().seed(2).sharePositionsWith(owner).build();
             AdamW opt = adam(owner, sharer);
             DclsConv owner2 = conv().seed(3).build(); DclsConv sharer2 = conv().seed(4).sharePositionsWith(owner2).build();
             AdamW opt2 = adam(owner2, sharer2)) {
            step(opt, owner, sharer);
            Checkpoint.save(file, ordered("owner", owner, "sharer", sharer), opt);
            Map<String, NdArray> arrays = Npz.read(file);
            Map<String, NdArray> renamed = new LinkedHashMap<>();
            arrays.forEach((k, v) -> renamed.put(k.replace("optimizer.owner.P.", "optimizer.sharer.P."), v));
            assertTrue(renamed.containsKey("optimizer.sharer.P.exp_avg"));
            Npz.write(file, renamed, false);
            Checkpoint.load(file, ordered("owner", owner2, "sharer", sharer2), opt2);
            assertArrayEquals(opt.state(owner.positions(), "exp_avg").toFloatArray(),
                    opt2.state(owner2.positions(), "exp_avg").toFloatArray());
        }
    }

    /** (b) importReference refuses a dcls4j checkpoint (its P is already in dcls4j's order). */
    @Test
    void importReferenceRejectsDclsCheckpoints() throws IOException {
        for (String name : List.of("ours.npz", "ours.safetensors")) {
            Path file = dir.resolve(name);
            try (DclsConv a = conv().dilatedKernelSize(5, 3).padding(2, 1).seed(1).build();
                 DclsConv b = conv().dilatedKernelSize(5, 3).padding(2, 1).seed(2).build()) {
                Checkpoint.save(file, a);
                float[] before = b.positions().value().toFloatArray();
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> Checkpoint.importReference(file, b));
                assertTrue(e.getMessage().contains("dcls4j checkpoint") && e.getMessage().contains("Checkpoint.load"),
                        e.getMessage());
                assertArrayEquals(before, b.positions().value().toFloatArray());
            }
        }
    }

    private static byte[] npy(String descr, String shape, byte[] data) {
        String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int total = 10 + header.length() + 1;
        int pad = (64 - total % 64) % 64;
        header = header + " ".repeat(pad) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII)).put(data);
        return b.array();
    }

    private static void zip(Path file, Map<String, byte[]> entries) throws IOException {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey());
                entry.setMethod(ZipEntry.STORED);
                entry.setSize(e.getValue().length);
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                entry.setCrc(crc.getValue());
                z.putNextEntry(entry);
                z.write(e.getValue());
                z.closeEntry();
            }
        }
    }

    /** (c) An entry whose data is longer than its header says (&lt;f4 over float64 data) is rejected. */
    @Test
    void npyDataLongerThanItsHeaderIsRejected() throws IOException {
        Path file = dir.resolve("long.npz");
        ByteBuffer doubles = ByteBuffer.allocate(6 * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            doubles.putDouble(i + 0.5);
        }
        zip(file, Map.of("weight.npy", npy("<f4", "(6,)", doubles.array())));
        IOException e = assertThrows(IOException.class, () -> Npz.read(file));
        assertTrue(e.getMessage().contains("weight.npy") && e.getMessage().contains("24 bytes")
                && e.getMessage().contains("48"), e.getMessage());
        Path single = dir.resolve("long.npy");
        Files.write(single, npy("<f4", "(6,)", doubles.array()));
        assertThrows(IOException.class, () -> io.dcls4j.io.Npy.read(single));
    }

    /** (d) A zip whose central directory lies about an entry's offset: the message names the entry and why. */
    @Test
    void lyingZipOffsetNamesTheEntry() throws IOException {
        Path file = dir.resolve("lie.npz");
        byte[] data = npy("<f8", "(2,)", new byte[16]);
        zip(file, Map.of("a.npy", data, "weight.npy", data));
        byte[] bytes = Files.readAllBytes(file);
        // the central directory entry of weight.npy: signature PK\1\2, local header offset at +42
        int at = -1;
        for (int i = bytes.length - 22; i >= 0 && at < 0; i--) {
            if (bytes[i] == 'P' && bytes[i + 1] == 'K' && bytes[i + 2] == 1 && bytes[i + 3] == 2) {
                String name = new String(bytes, i + 46, bytes[i + 28] & 0xff, StandardCharsets.US_ASCII);
                if (name.equals("weight.npy")) {
                    at = i;
                }
            }
        }
        assertTrue(at >= 0);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(at + 42, 7); // into the first entry's data
        Files.write(file, bytes);
        IOException e = assertThrows(IOException.class, () -> Npz.read(file));
        assertFalse(e.getMessage().endsWith("null"), e.getMessage());
        assertTrue(e.getMessage().contains("weight.npy"), e.getMessage());
    }

    private static boolean posix(Path p) {
        return Files.getFileAttributeView(p, java.nio.file.attribute.PosixFileAttributeView.class) != null;
    }

    /** (e) Saving over a file keeps its permissions; a new file gets the umask's (not 0600). */
    @Test
    void saveKeepsPermissions() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(posix(dir));
        for (String name : List.of("perm.npz", "perm.safetensors")) {
            Path file = dir.resolve(name);
            try (DclsConv a = conv().seed(1).build()) {
                Files.write(file, new byte[] {1});
                Set<PosixFilePermission> wanted = PosixFilePermissions.fromString("rw-r-----");
                Files.setPosixFilePermissions(file, wanted);
                Checkpoint.save(file, a);
                assertEquals(wanted, Files.getPosixFilePermissions(file));
                // a new file: as an ordinary file written by this process (the umask applies)
                Path fresh = dir.resolve("fresh-" + name);
                Path plain = dir.resolve("plain-" + name);
                Files.write(plain, new byte[] {1});
                Checkpoint.save(fresh, a);
                assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(fresh));
            }
        }
    }

    /** (f) A save killed mid-write leaves a temporary file that the next save or load of that file removes. */
    @Test
    void staleTemporaryFilesAreCleanedUp() throws IOException {
        Path file = dir.resolve("model.npz");
        try (DclsConv a = conv().seed(1).build()) {
            Checkpoint.save(file, a);
            Path stale = io.dcls4j.internal.AtomicFile.temporaryFor(file);
            assertEquals(dir, stale.getParent());
            Files.write(stale, new byte[100]);                     // as left by a killed save
            Files.setLastModifiedTime(stale, FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
            Checkpoint.load(file, a);
            assertFalse(Files.exists(stale), "load removes a stale temporary file");
            Files.write(stale, new byte[100]);
            Checkpoint.save(file, a);
            assertFalse(Files.exists(stale), "save replaces and removes it");
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of(file), files.toList());
            }
        }
    }

    /** (g) Saving into a missing folder names the target, not a temporary file. */
    @Test
    void missingFolderNamesTheTarget() {
        Path file = dir.resolve("no-such-folder").resolve("model.npz");
        try (DclsConv a = conv().seed(1).build()) {
            IOException e = assertThrows(IOException.class, () -> Checkpoint.save(file, a));
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            assertFalse(e.getMessage().contains(".tmp"), e.getMessage());
            assertTrue(e.getMessage().contains("folder"), e.getMessage());
        }
    }
}
