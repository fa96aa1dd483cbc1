package io.dcls4j.dist;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds and loads Open MPI's {@code libmpi.so.40}, only when a {@link Communicator} over MPI is asked for:
 * nothing else in dcls4j touches this class, so single-process use never needs MPI installed.
 *
 * <p>Where from, in order: the file named by {@code dcls4j.mpi.library} / {@code DCLS4J_MPI_LIBRARY}; the first
 * {@code java.library.path} folder holding {@value #NAME}; the standard locations of Debian/Ubuntu
 * ({@code /usr/lib/x86_64-linux-gnu}, and its {@code openmpi/lib}), Fedora/RHEL ({@code /usr/lib64/openmpi/lib})
 * and a source build ({@code /usr/local/lib}). The library is loaded with {@link System#load} by this class, so
 * the generated bindings (io.dcls4j.ffi.mpi, same class loader) find its symbols.
 */
final class MpiLibrary {
    /** The soname of Open MPI 3.x to 5.x's C library (ABI 40). */
    static final String NAME = "libmpi.so.40";
    static final List<String> STANDARD_DIRS = List.of("/usr/lib/x86_64-linux-gnu",
            "/usr/lib/x86_64-linux-gnu/openmpi/lib", "/usr/lib64/openmpi/lib", "/usr/lib64", "/usr/local/lib");

    private static volatile Path loaded;
    private static volatile String failure;

    private MpiLibrary() {}

    /** Loads libmpi once; later calls return its path, or throw the first failure again. */
    static synchronized Path load() {
        if (loaded != null) {
            return loaded;
        }
        if (failure != null) {
            throw new DistributedException(-1, -1, 0, failure);
        }
        List<Path> tried = new ArrayList<>();
        Path found = locate(tried);
        if (found == null) {
            failure = "Open MPI's " + NAME + " not found (tried " + tried + "); install Open MPI (Debian: apt-get"
                    + " install openmpi-bin) or name the file with -Ddcls4j.mpi.library=/path/to/" + NAME;
            throw new DistributedException(-1, -1, 0, failure);
        }
        try {
            System.load(found.toAbsolutePath().toString());
        } catch (UnsatisfiedLinkError e) {
            failure = "could not load " + found + ": " + e.getMessage();
            throw new DistributedException(-1, -1, 0, failure);
        }
        loaded = found;
        return found;
    }

    private static Path locate(List<Path> tried) {
        String setting = System.getProperty("dcls4j.mpi.library", System.getenv("DCLS4J_MPI_LIBRARY"));
        if (setting != null && !setting.isBlank()) {
            Path p = Path.of(setting);
            tried.add(p);
            if (!Files.isRegularFile(p)) {
                failure = "dcls4j.mpi.library names " + p + ", which is not a file";
                throw new DistributedException(-1, -1, 0, failure);
            }
            return p;
        }
        List<String> dirs = new ArrayList<>();
        for (String d : System.getProperty("java.library.path", "").split(File.pathSeparator)) {
            if (!d.isBlank()) {
                dirs.add(d);
            }
        }
        dirs.addAll(STANDARD_DIRS);
        for (String d : dirs) {
            Path p = Path.of(d, NAME);
            tried.add(p);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }
}
