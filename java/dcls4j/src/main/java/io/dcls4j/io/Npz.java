package io.dcls4j.io;

import io.dcls4j.internal.AtomicFile;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Reads and writes NumPy {@code .npz} archives: zip files with one {@code NAME.npy} entry per array, as written
 * by {@code numpy.savez} (entries STORED) and {@code numpy.savez_compressed} (entries DEFLATED). See {@link Npy}
 * for the array format.
 *
 * <p>Malformed, truncated or corrupted archives (including entries whose CRC does not match) are reported as an
 * {@link IOException} naming the file and the entry.
 */
public final class Npz {

    private static final String SUFFIX = ".npy";

    private Npz() {
    }

    /**
     * Reads every array of an archive, in the archive's order, keyed by entry name without the {@code .npy}
     * suffix (as {@code numpy.load} does).
     */
    public static Map<String, NdArray> read(Path path) throws IOException {
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (IOException e) {
            throw new IOException(path + ": not a readable .npz (zip) archive: " + (e.getMessage() != null
                    ? e.getMessage() : e.getClass().getSimpleName()), e);
        }
        Map<String, NdArray> arrays = new LinkedHashMap<>();
        try (zip) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                if (entry.isDirectory()) {
                    continue;
                }
                String name = entry.getName();
                String key = name.endsWith(SUFFIX) ? name.substring(0, name.length() - SUFFIX.length()) : name;
                try {
                    arrays.put(key, readEntry(zip, entry));
                } catch (IOException e) {
                    throw new IOException(path + ", entry '" + name + "': " + (e.getMessage() != null ? e.getMessage()
                            : e.getClass().getSimpleName() + " reading its data (the archive's directory may point"
                            + " to the wrong place, or the data is cut short)"), e);
                }
            }
        } catch (IllegalArgumentException | IllegalStateException | IndexOutOfBoundsException e) {
            // java.util.zip reports some malformed archives (e.g. undecodable entry names) this way
            throw new IOException(path + ": corrupt .npz (zip) archive: " + e, e);
        }
        return arrays;
    }

    private static NdArray readEntry(ZipFile zip, ZipEntry entry) throws IOException {
        try (CheckedInputStream in = new CheckedInputStream(zip.getInputStream(entry), new CRC32())) {
            NdArray array = Npy.readEntire(in); // reads the whole entry, so all of it goes into the CRC
            long expected = entry.getCrc();
            if (expected != -1 && in.getChecksum().getValue() != expected) {
                throw new IOException("CRC mismatch: the entry is corrupt");
            }
            return array;
        }
    }

    /**
     * Writes the arrays, in the map's iteration order, as an uncompressed archive (like {@code numpy.savez}).
     *
     * @param float32 store {@code <f4} values (rounded to float) instead of {@code <f8}
     */
    public static void write(Path path, Map<String, NdArray> arrays, boolean float32) throws IOException {
        write(path, arrays, float32, false);
    }

    /**
     * Writes the arrays, in the map's iteration order. The archive is written to a temporary file next to
     * {@code path} and then moved over it, so an existing file is never left half-written.
     *
     * @param float32    store {@code <f4} values (rounded to float) instead of {@code <f8}
     * @param compressed DEFLATE the entries (like {@code numpy.savez_compressed}) instead of storing them
     */
    public static void write(Path path, Map<String, NdArray> arrays, boolean float32, boolean compressed)
            throws IOException {
        Objects.requireNonNull(arrays, "arrays");
        for (String name : arrays.keySet()) {
            if (name == null || name.isEmpty() || name.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("invalid array name '" + name + "'");
            }
            Objects.requireNonNull(arrays.get(name), "array '" + name + "'");
        }
        AtomicFile.write(path, out -> {
            try (ZipOutputStream zip = new ZipOutputStream(out)) {
                for (Map.Entry<String, NdArray> e : arrays.entrySet()) {
                    ZipEntry entry = new ZipEntry(e.getKey() + SUFFIX);
                    if (compressed) {
                        entry.setMethod(ZipEntry.DEFLATED);
                    } else {
                        // A STORED entry needs its size and CRC up front: compute them in a first pass.
                        CheckedOutputStream sink = new CheckedOutputStream(OutputStream.nullOutputStream(), new CRC32());
                        Npy.write(sink, e.getValue(), float32);
                        long size = Npy.byteSize(e.getValue(), float32);
                        entry.setMethod(ZipEntry.STORED);
                        entry.setSize(size);
                        entry.setCompressedSize(size);
                        entry.setCrc(sink.getChecksum().getValue());
                    }
                    zip.putNextEntry(entry);
                    Npy.write(zip, e.getValue(), float32);
                    zip.closeEntry();
                }
            }
        });
    }
}
