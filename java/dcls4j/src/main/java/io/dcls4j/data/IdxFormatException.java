package io.dcls4j.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An IDX file that is not what it should be: wrong magic number or dimension count, sizes that do not match the
 * file's length, a truncated or corrupt gzip stream, or an images file and a labels file that disagree. The message
 * names the file and the problem.
 */
public final class IdxFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    IdxFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    IdxFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file at fault (for a count mismatch, the labels file). */
    public Path file() {
        return file;
    }
}
