package io.dcls4j.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes IDX files byte by byte, independently of the reader, for the tests: right ones and broken ones. */
final class IdxFiles {
    private IdxFiles() {
    }

    /** Header (magic, then each size, big-endian) followed by the data. */
    static byte[] idx(int magic, int[] sizes, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * sizes.length + data.length); // big-endian by default
        b.putInt(magic);
        for (int s : sizes) {
            b.putInt(s);
        }
        b.put(data);
        return b.array();
    }

    static byte[] images(int count, int rows, int columns, byte[] pixels) {
        return idx(Idx.IMAGES_MAGIC, new int[] {count, rows, columns}, pixels);
    }

    static byte[] labels(byte[] labels) {
        return idx(Idx.LABELS_MAGIC, new int[] {labels.length}, labels);
    }

    static byte[] gzip(byte[] plain) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(plain);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static Path write(Path dir, String name, byte[] bytes) {
        try {
            return Files.write(dir.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Pixels i * 7 + 3 (mod 256): every image different, every byte value present in larger sets. */
    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + 3);
        }
        return b;
    }
}
