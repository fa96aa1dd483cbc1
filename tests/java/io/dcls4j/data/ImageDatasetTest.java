package io.dcls4j.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ImageDataset#first(int)}: the leading samples, pixel for pixel and label for label. */
class ImageDatasetTest {
    private static ImageDataset numbered(int n) {
        byte[] pixels = new byte[n * 3 * 2];
        byte[] labels = new byte[n];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 7 + 1);
        }
        for (int i = 0; i < n; i++) {
            labels[i] = (byte) ((i * 3) % 5);
        }
        return ImageDataset.of("numbered", 3, 2, 5, pixels, labels);
    }

    @Test
    void firstKeepsTheLeadingSamplesExactly() {
        ImageDataset all = numbered(10);
        ImageDataset head = all.first(4);
        assertEquals(4, head.size());
        assertEquals(3, head.rows());
        assertEquals(2, head.columns());
        assertEquals(5, head.classes());
        assertTrue(head.name().contains("first 4"), head.name());
        for (int i = 0; i < 4; i++) {
            assertEquals(all.label(i), head.label(i));
            for (int r = 0; r < 3; r++) {
                for (int c = 0; c < 2; c++) {
                    assertEquals(all.pixel(i, r, c), head.pixel(i, r, c), "sample " + i);
                }
            }
        }
        assertThrows(IndexOutOfBoundsException.class, () -> head.label(4));
    }

    @Test
    void firstOfAllOrMoreIsTheDatasetAndNothingIsRejected() {
        ImageDataset all = numbered(6);
        assertSame(all, all.first(6));
        assertSame(all, all.first(100));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> all.first(0));
        assertTrue(e.getMessage().contains("at least one sample"), e.getMessage());
    }
}
