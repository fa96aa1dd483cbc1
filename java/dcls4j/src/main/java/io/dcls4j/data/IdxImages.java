package io.dcls4j.data;

/**
 * The content of an IDX images file: {@code count} greyscale images of {@code rows} x {@code columns} unsigned
 * bytes, row-major, image after image, as {@link Idx#readImages} returns it. The array is not copied: it is the
 * reader's, handed over.
 */
public record IdxImages(int count, int rows, int columns, byte[] pixels) {
    public IdxImages {
        if (count < 0 || rows < 1 || columns < 1) {
            throw new IllegalArgumentException("bad image dimensions " + count + " x " + rows + " x " + columns);
        }
        if (pixels == null || pixels.length != (long) count * rows * columns) {
            throw new IllegalArgumentException("pixels: expected " + (long) count * rows * columns + " bytes, got "
                    + (pixels == null ? "null" : pixels.length));
        }
    }
}
