package io.dcls4j.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the IDX files of MNIST and Fashion-MNIST (<a href="http://yann.lecun.com/exdb/mnist/">format</a>): a
 * big-endian header of a magic number {@code 0x000008DD} (unsigned bytes, {@code DD} dimensions) and one 32-bit size
 * per dimension, then the bytes. Plain or gzip-compressed files are both read; which one is told by the first two
 * bytes (gzip's {@code 1f 8b}), not by the name.
 *
 * <p>Everything is checked before it is trusted: the magic number (an images file is {@code 0x00000803}, a labels
 * file {@code 0x00000801}), the sizes against what the file actually holds (truncated data and bytes after the data
 * are both errors), and the gzip stream's own checksum. Problems are reported as {@link IdxFormatException}s naming
 * the file.
 */
public final class Idx {
    /** Magic number of an images file: unsigned bytes, three dimensions (count, rows, columns). */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Magic number of a labels file: unsigned bytes, one dimension (count). */
    public static final int LABELS_MAGIC = 0x00000801;

    /** The largest data a Java byte array can hold. */
    private static final long MAX_DATA_BYTES = Integer.MAX_VALUE - 8;
    private static final int UNSIGNED_BYTE = 0x08;

    private Idx() {
    }

    /** Reads an images file ({@link #IMAGES_MAGIC}). */
    public static IdxImages readImages(Path file) throws IOException {
        Content c = read(file, 3, "images");
        long[] d = c.dims();
        if (d[1] == 0 || d[2] == 0) {
            throw new IdxFormatException(file, "images of " + d[1] + " x " + d[2] + " pixels; both sizes must be >= 1");
        }
        return new IdxImages((int) d[0], (int) d[1], (int) d[2], c.data());
    }

    /** Reads a labels file ({@link #LABELS_MAGIC}): one unsigned byte per sample. */
    public static byte[] readLabels(Path file) throws IOException {
        return read(file, 1, "labels").data();
    }

    private record Content(long[] dims, byte[] data) {
    }

    private static Content read(Path file, int rank, String kind) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such " + kind + " file");
        }
        long fileBytes = Files.size(file);
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw;
            try {
                return read(file, in, gzip, fileBytes, rank, kind);
            } catch (ZipException | EOFException e) {
                // GZIPInputStream's own words for a cut or damaged stream ("Unexpected end of ZLIB input stream",
                // "Corrupt GZIP trailer", "invalid stored block lengths"...), with the file named
                throw new IdxFormatException(file, "truncated or corrupt gzip stream (" + e.getMessage() + ")", e);
            }
        }
    }

    private static Content read(Path file, InputStream in, boolean gzip, long fileBytes, int rank, String kind)
            throws IOException {
        String where = gzip ? " after decompression" : "";
        byte[] magicBytes = in.readNBytes(4);
        if (magicBytes.length < 4) {
            throw new IdxFormatException(file, "truncated: " + magicBytes.length + " bytes" + where
                    + ", too short for the 4-byte magic number");
        }
        int magic = bigEndian(magicBytes, 0);
        int expectedMagic = rank == 3 ? IMAGES_MAGIC : LABELS_MAGIC;
        if ((magic >>> 16) != 0) {
            throw new IdxFormatException(file, String.format("not an IDX file: magic number 0x%08x, expected 0x%08x"
                    + " (%s)", magic, expectedMagic, kind));
        }
        if (((magic >>> 8) & 0xff) != UNSIGNED_BYTE) {
            throw new IdxFormatException(file, String.format("element type 0x%02x (magic number 0x%08x); only"
                    + " unsigned bytes (0x08) are read", (magic >>> 8) & 0xff, magic));
        }
        if (magic != expectedMagic) {
            throw new IdxFormatException(file, String.format("magic number 0x%08x (%d dimensions), expected 0x%08x:"
                    + " an images file has 0x%08x (count, rows, columns), a labels file 0x%08x (count)",
                    magic, magic & 0xff, expectedMagic, IMAGES_MAGIC, LABELS_MAGIC));
        }
        byte[] header = in.readNBytes(4 * rank);
        if (header.length < 4 * rank) {
            throw new IdxFormatException(file, "truncated header: " + (4 + header.length) + " bytes" + where
                    + ", a " + kind + " header has " + (4 + 4 * rank));
        }
        long[] dims = new long[rank];
        long dataBytes = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = bigEndian(header, 4 * i) & 0xffffffffL;
            dataBytes *= dims[i]; // both factors below 2^32 after the check below: no overflow
            if (dataBytes > MAX_DATA_BYTES) {
                throw new IdxFormatException(file, "the header's sizes " + Arrays.toString(Arrays.copyOf(dims, i + 1))
                        + (i + 1 < rank ? "..." : "") + " describe more than " + MAX_DATA_BYTES
                        + " bytes of data, more than one array holds");
            }
        }
        long headerBytes = 4 + 4L * rank;
        if (!gzip && fileBytes != headerBytes + dataBytes) {
            throw new IdxFormatException(file, sizeProblem(dims, kind, dataBytes, fileBytes - headerBytes));
        }
        byte[] data = in.readNBytes((int) dataBytes);
        if (data.length < dataBytes) {
            throw new IdxFormatException(file, sizeProblem(dims, kind, dataBytes, data.length) + where);
        }
        if (gzip) {
            long extra = in.transferTo(OutputStream.nullOutputStream());
            if (extra > 0) {
                throw new IdxFormatException(file, sizeProblem(dims, kind, dataBytes, dataBytes + extra) + where);
            }
        }
        return new Content(dims, data);
    }

    private static String sizeProblem(long[] dims, String kind, long expected, long actual) {
        String described = dims.length == 3
                ? dims[0] + " images of " + dims[1] + " x " + dims[2] + " pixels"
                : dims[0] + " labels";
        if (actual < expected) {
            return "truncated: the header describes " + described + " (" + expected + " bytes of data) but the file"
                    + " holds only " + actual;
        }
        return "the header describes " + described + " (" + expected + " bytes of data) but the file holds "
                + actual + " (" + (actual - expected) + " bytes after the data)";
    }

    private static int bigEndian(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }
}
