package io.dcls4j.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

import static io.dcls4j.data.IdxFiles.gzip;
import static io.dcls4j.data.IdxFiles.images;
import static io.dcls4j.data.IdxFiles.labels;
import static io.dcls4j.data.IdxFiles.pattern;
import static io.dcls4j.data.IdxFiles.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The IDX reader on files written here byte by byte: plain and gzip read the same; every kind of damage is named. */
class IdxTest {
    @TempDir
    Path dir;

    @Test
    void plainAndGzipFilesReadTheBytesWritten() throws IOException {
        byte[] pixels = pattern(5 * 3 * 4);
        byte[] lab = {0, 1, 2, 9, (byte) 255};
        for (boolean compressed : new boolean[] {false, true}) {
            byte[] im = images(5, 3, 4, pixels);
            byte[] lb = labels(lab);
            Path imFile = write(dir, "im" + compressed, compressed ? gzip(im) : im);
            Path lbFile = write(dir, "lb" + compressed, compressed ? gzip(lb) : lb);
            IdxImages read = Idx.readImages(imFile);
            assertEquals(5, read.count());
            assertEquals(3, read.rows());
            assertEquals(4, read.columns());
            assertArrayEquals(pixels, read.pixels());
            assertArrayEquals(lab, Idx.readLabels(lbFile));
        }
    }

    /** Reads {@code bytes} as images (or labels) and returns the exception's message, checking it names the file. */
    private String failure(byte[] bytes, boolean asImages) {
        Path file = write(dir, "broken-" + System.nanoTime() + ".idx", bytes);
        IdxFormatException e = assertThrows(IdxFormatException.class,
                () -> {
                    if (asImages) {
                        Idx.readImages(file);
                    } else {
                        Idx.readLabels(file);
                    }
                });
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertEquals(file, e.file());
        return e.getMessage();
    }

    private static void assertContains(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "expected '" + p + "' in: " + message);
        }
    }

    @Test
    void aLabelsFileIsNotImagesAndTheOtherWayRound() {
        byte[] lb = labels(new byte[] {1, 2, 3});
        byte[] im = images(1, 2, 2, pattern(4));
        for (boolean gz : new boolean[] {false, true}) {
            assertContains(failure(gz ? gzip(lb) : lb, true), "magic number 0x00000801", "expected 0x00000803");
            assertContains(failure(gz ? gzip(im) : im, false), "magic number 0x00000803", "expected 0x00000801");
        }
    }

    @Test
    void wrongMagicNumbersAreNamed() {
        byte[] im = images(1, 2, 2, pattern(4));
        byte[] notIdx = im.clone();
        notIdx[0] = 'P';
        assertContains(failure(notIdx, true), "not an IDX file");
        byte[] floats = im.clone();
        floats[2] = 0x0d; // IDX float32
        assertContains(failure(floats, true), "element type 0x0d", "only unsigned bytes");
        byte[] fourDims = IdxFiles.idx(0x00000804, new int[] {1, 2, 2, 1}, pattern(4));
        assertContains(failure(fourDims, true), "4 dimensions", "expected 0x00000803");
        assertContains(failure(new byte[] {0, 0}, true), "truncated", "magic number");
        assertContains(failure(new byte[0], false), "truncated");
    }

    @Test
    void truncatedFilesAreNamedWithTheSizes() {
        byte[] im = images(3, 4, 5, pattern(60));
        byte[] cutData = Arrays.copyOf(im, im.length - 7);
        assertContains(failure(cutData, true), "truncated", "3 images of 4 x 5 pixels", "60 bytes", "only 53");
        assertContains(failure(gzip(cutData), true), "truncated", "only 53", "after decompression");
        byte[] cutHeader = Arrays.copyOf(im, 10);
        assertContains(failure(cutHeader, true), "truncated header");
        assertContains(failure(gzip(cutHeader), true), "truncated header");
        byte[] lb = labels(pattern(10));
        assertContains(failure(Arrays.copyOf(lb, lb.length - 1), false), "10 labels", "only 9");
    }

    @Test
    void bytesAfterTheDataAreAnError() {
        byte[] im = images(2, 2, 2, pattern(8));
        byte[] longer = Arrays.copyOf(im, im.length + 3);
        assertContains(failure(longer, true), "3 bytes after the data");
        assertContains(failure(gzip(longer), true), "3 bytes after the data");
    }

    @Test
    void aCutOrDamagedGzipStreamIsNamed() {
        byte[] im = gzip(images(50, 28, 28, pattern(50 * 28 * 28)));
        // cut inside the compressed data: the inflater runs dry
        assertContains(failure(Arrays.copyOf(im, im.length / 2), true), "truncated or corrupt gzip stream");
        // the 8-byte trailer (CRC-32, length) cut off
        assertContains(failure(Arrays.copyOf(im, im.length - 6), true), "gzip");
        // a flipped bit in the CRC-32 in the trailer
        byte[] badCrc = im.clone();
        badCrc[badCrc.length - 8] ^= 1;
        assertContains(failure(badCrc, true), "truncated or corrupt gzip stream");
    }

    @Test
    void sizesBeyondAnArrayAreRejectedBeforeAllocating() {
        byte[] huge = IdxFiles.idx(Idx.IMAGES_MAGIC, new int[] {-1, 60000, 60000}, new byte[0]);
        assertContains(failure(huge, true), "more than", "bytes of data");
        byte[] zeroRows = IdxFiles.idx(Idx.IMAGES_MAGIC, new int[] {1, 0, 28}, new byte[0]);
        assertContains(failure(zeroRows, true), "both sizes must be >= 1");
    }

    @Test
    void aMissingFileIsNamed() {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Idx.readImages(dir.resolve("absent")));
        assertTrue(e.getMessage().contains("absent"), e.getMessage());
    }

    @Test
    void imagesAndLabelsMustAgree() {
        Path im = write(dir, "im", images(4, 2, 2, pattern(16)));
        Path three = write(dir, "lb3", gzip(labels(new byte[] {0, 1, 2})));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> ImageDataset.load(im, three, 10));
        assertContains(e.getMessage(), three.toString(), "3 labels for the 4 images", im.toString());
        Path outOfRange = write(dir, "lb4", labels(new byte[] {0, 1, 10, 2}));
        e = assertThrows(IdxFormatException.class, () -> ImageDataset.load(im, outOfRange, 10));
        assertContains(e.getMessage(), outOfRange.toString(), "label 10 of sample 2", "not a class of 10");
        Path empty = write(dir, "im0", images(0, 2, 2, new byte[0]));
        Path noLabels = write(dir, "lb0", labels(new byte[0]));
        e = assertThrows(IdxFormatException.class, () -> ImageDataset.load(empty, noLabels, 10));
        assertContains(e.getMessage(), "no images");
    }

    @Test
    void aDatasetLoadedFromFilesHoldsTheirContent() throws IOException {
        byte[] pixels = pattern(3 * 2 * 2);
        Path im = write(dir, "im", gzip(images(3, 2, 2, pixels)));
        Path lb = write(dir, "lb", labels(new byte[] {2, 0, 2}));
        ImageDataset d = ImageDataset.load(im, lb, 3);
        assertEquals(3, d.size());
        assertEquals(2, d.label(0));
        assertEquals(0, d.label(1));
        assertArrayEquals(new int[] {1, 0, 2}, d.labelHistogram());
        // image 2, row 1, column 0 is byte 2 * 4 + 1 * 2 + 0 = 10 of the pattern
        assertEquals(pixels[10] & 0xff, d.pixel(2, 1, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> d.pixel(3, 0, 0));
    }
}
