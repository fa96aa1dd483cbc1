package io.dcls4j.internal;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * Writes a file so that it is never left half-written: into a temporary file next to it, then moved over
 * it (atomically where the file system can). On failure the temporary file is deleted and an existing file
 * is untouched.
 *
 * <p>The temporary file has a predictable name, {@link #temporaryFor}: {@code .NAME.tmp} beside
 * {@code NAME}. A write killed before its move leaves it behind; the next write of the same file replaces
 * and removes it, and {@link #removeStale} (called when the file is loaded) removes one that is no longer
 * being written. Two writes of one file at the same time are not supported: one of them fails. An
 * existing file keeps its permissions; a new one gets the process's defaults (the umask).
 */
public final class AtomicFile {
    /** A temporary file untouched for this long is taken as left by a killed write. */
    private static final long STALE_MILLIS = 60_000;

    /** What writes the content. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    private AtomicFile() {}

    /** The temporary file a write of {@code path} uses: {@code .NAME.tmp} in the same folder. */
    public static Path temporaryFor(Path path) {
        Path absolute = path.toAbsolutePath();
        return absolute.resolveSibling("." + absolute.getFileName() + ".tmp");
    }

    /** Removes the temporary file of {@code path} if a killed write left it (untouched for a minute). */
    public static void removeStale(Path path) {
        Path temporary = temporaryFor(path);
        try {
            FileTime modified = Files.getLastModifiedTime(temporary);
            if (System.currentTimeMillis() - modified.toMillis() > STALE_MILLIS) {
                Files.deleteIfExists(temporary);
            }
        } catch (IOException e) {
            // none there, or not ours to remove: nothing to clean up
        }
    }

    public static void write(Path path, Content content) throws IOException {
        Path absolute = path.toAbsolutePath();
        Path folder = absolute.getParent();
        if (folder == null || !Files.isDirectory(folder)) {
            throw new NoSuchFileException(path.toString(), null, "cannot write it: the folder " + folder
                    + " does not exist");
        }
        Set<PosixFilePermission> permissions = existingPermissions(absolute);
        Path temporary = temporaryFor(absolute);
        try {
            Files.deleteIfExists(temporary); // a killed write's leftover, with whatever permissions it had
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(temporary,
                    StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 1 << 16)) {
                content.writeTo(out);
            }
            if (permissions != null) {
                Files.setPosixFilePermissions(temporary, permissions);
            }
            try {
                Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (FileSystemException e) {
            // the exception names the temporary file; the caller asked for the target
            throw new IOException("cannot write " + path + ": " + (e.getReason() != null ? e.getReason()
                    : e.getClass().getSimpleName()) + (e.getFile() != null && !e.getFile().equals(temporary.toString())
                    ? " (" + e.getFile() + ")" : ""), e);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** The POSIX permissions of an existing file, or null (no file, or no POSIX permissions). */
    private static Set<PosixFilePermission> existingPermissions(Path path) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
        if (view == null || !Files.exists(path)) {
            return null;
        }
        return view.readAttributes().permissions();
    }
}
