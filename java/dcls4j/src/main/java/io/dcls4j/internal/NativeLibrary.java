package io.dcls4j.internal;

import io.dcls4j.DclsException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Finds and loads {@code libdcls.so} and the oneDNN and OpenMP libraries beside it, and, only when a
 * CUDA device is first wanted, {@code libdcls_cuda.so}.
 *
 * <p>By default the libraries are taken from the jar (resources under {@value #RESOURCE_DIR}) and
 * extracted once into a cache folder named after the content of {@code libdcls.so} (and of
 * {@code libdcls_cuda.so} when the jar has it), so that two versions never share a folder. The CUDA
 * library is extracted with the others but loaded by {@link #loadCuda()} alone: CPU-only use never
 * loads it, and a jar built without CUDA works as before. Extraction is safe when several JVMs start
 * at once: each writes its own temporary file under a file lock and moves it into place atomically.
 *
 * <p>Settings (system property, then environment variable):
 * <ul>
 *   <li>{@code dcls4j.library.path} / {@code DCLS4J_LIBRARY_PATH}: a folder holding the libraries;
 *       they are loaded from there and nothing is extracted.
 *   <li>{@code dcls4j.cache.dir} / {@code DCLS4J_CACHE_DIR}: where to extract
 *       (default {@code $XDG_CACHE_HOME/dcls4j} or {@code ~/.cache/dcls4j}).
 *   <li>{@code dcls4j.cuda.library} / {@code DCLS4J_CUDA_LIBRARY}: the {@code libdcls_cuda.so} file to
 *       load instead of the one beside the others (a build of a GPU host's own, or the tests' CPU
 *       emulation of CUDA).
 * </ul>
 */
public final class NativeLibrary {
    static final String RESOURCE_DIR = "/io/dcls4j/native/linux-x86_64/";
    /** Load order: each library's dependencies come before it. */
    static final List<String> LIBRARIES = List.of("libgomp.so.1", "libdnnl.so.3", "libdcls.so");
    /** Built only where nvcc was found; needs only the driver (libcuda.so.1) at run time. */
    public static final String CUDA_LIBRARY = "libdcls_cuda.so";

    private static volatile Path loadedFrom;
    private static volatile boolean cudaLoaded;

    private NativeLibrary() {}

    /** Loads the native libraries once; later calls return at once. */
    public static synchronized Path load() {
        if (loadedFrom != null) {
            return loadedFrom;
        }
        String os = System.getProperty("os.name", "").toLowerCase();
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new DclsException(-1, "dcls4j ships native libraries for linux-x86_64 only, not " + os + "/" + arch);
        }
        Path dir;
        String override = setting("dcls4j.library.path", "DCLS4J_LIBRARY_PATH");
        try {
            dir = override != null ? Path.of(override) : extract();
        } catch (IOException e) {
            throw new DclsException("cannot extract dcls4j's native libraries: " + e.getMessage(), e);
        }
        for (String name : LIBRARIES) {
            Path lib = dir.resolve(name).toAbsolutePath();
            if (!Files.isRegularFile(lib)) {
                throw new DclsException(-1, "native library " + lib + " not found"
                        + (override != null ? " (dcls4j.library.path=" + override + ")" : ""));
            }
            try {
                System.load(lib.toString());
            } catch (UnsatisfiedLinkError e) {
                throw new DclsException("cannot load " + lib + ": " + e.getMessage(), e);
            }
        }
        loadedFrom = dir;
        return dir;
    }

    /** The folder the libraries were loaded from, or null before {@link #load()}. */
    public static Path loadedFrom() {
        return loadedFrom;
    }

    /**
     * Loads {@code libdcls_cuda.so} once (after the CPU libraries, which give the folder); later calls
     * return at once. Throws {@link DclsException} when this dcls4j was built without CUDA (the
     * library is not in the jar, or not in {@code dcls4j.library.path}) or the library cannot be loaded.
     * Needs no GPU: without a driver or a device, loading works and the device count is 0.
     */
    public static synchronized void loadCuda() {
        if (cudaLoaded) {
            return;
        }
        Path dir = load();
        String cudaOverride = setting("dcls4j.cuda.library", "DCLS4J_CUDA_LIBRARY");
        Path lib = (cudaOverride != null ? Path.of(cudaOverride) : dir.resolve(CUDA_LIBRARY)).toAbsolutePath();
        if (cudaOverride != null && !Files.isRegularFile(lib)) {
            throw new DclsException(-1, "dcls4j.cuda.library=" + cudaOverride + " is not a file");
        }
        if (!Files.isRegularFile(lib)) {
            String override = setting("dcls4j.library.path", "DCLS4J_LIBRARY_PATH");
            throw new DclsException(-1, "dcls4j was built without CUDA: " + CUDA_LIBRARY + " is not "
                    + (override != null ? "in dcls4j.library.path=" + override
                    : "in the jar (it is built where the CUDA toolkit's nvcc is found)"));
        }
        try {
            System.load(lib.toString());
        } catch (UnsatisfiedLinkError e) {
            throw new DclsException("cannot load " + lib + ": " + e.getMessage(), e);
        }
        cudaLoaded = true;
    }

    /** Whether {@link #loadCuda()} loaded {@code libdcls_cuda.so} in this JVM. */
    public static boolean cudaLoaded() {
        return cudaLoaded;
    }

    /**
     * Whether {@code libdcls_cuda.so} is available, without loading it: beside the loaded libraries
     * (extracted from the jar, or in {@code dcls4j.library.path}). Loads the CPU libraries first.
     */
    public static boolean cudaBundled() {
        String cudaOverride = setting("dcls4j.cuda.library", "DCLS4J_CUDA_LIBRARY");
        Path dir = load();
        return Files.isRegularFile(cudaOverride != null ? Path.of(cudaOverride) : dir.resolve(CUDA_LIBRARY));
    }

    private static String setting(String property, String env) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            v = System.getenv(env);
        }
        return v == null || v.isBlank() ? null : v;
    }

    private static Path cacheRoot() {
        String configured = setting("dcls4j.cache.dir", "DCLS4J_CACHE_DIR");
        if (configured != null) {
            return Path.of(configured);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("dcls4j");
    }

    private static Path extract() throws IOException {
        byte[] core = readResource("libdcls.so");
        byte[] cuda = readOptionalResource(CUDA_LIBRARY);
        List<String> names = cuda == null ? LIBRARIES
                : Stream.concat(LIBRARIES.stream(), Stream.of(CUDA_LIBRARY)).toList();
        Path dir = cacheRoot().resolve(cuda == null ? digest(core) : digest(core, cuda));
        Path complete = dir.resolve(".complete");
        if (Files.exists(complete)) {
            return dir;
        }
        Files.createDirectories(dir);
        try (FileChannel lockFile = FileChannel.open(dir.resolve(".lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = lockFile.lock()) {
            assert lock.isValid();
            if (Files.exists(complete)) {
                return dir; // another JVM finished while this one waited for the lock
            }
            for (String name : names) {
                Path tmp = Files.createTempFile(dir, name, ".tmp");
                try (InputStream in = open(name)) {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.writeString(complete, String.join("\n", names));
        }
        return dir;
    }

    private static InputStream open(String name) throws IOException {
        InputStream in = NativeLibrary.class.getResourceAsStream(RESOURCE_DIR + name);
        if (in == null) {
            throw new IOException("resource " + RESOURCE_DIR + name + " is missing from the classpath"
                    + " (was the native library built? run the Maven build, or set dcls4j.library.path)");
        }
        return in;
    }

    private static byte[] readResource(String name) throws IOException {
        try (InputStream in = open(name)) {
            return in.readAllBytes();
        }
    }

    /** The resource's bytes, or null when the jar does not have it. */
    private static byte[] readOptionalResource(String name) throws IOException {
        try (InputStream in = NativeLibrary.class.getResourceAsStream(RESOURCE_DIR + name)) {
            return in == null ? null : in.readAllBytes();
        }
    }

    private static String digest(byte[]... contents) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (byte[] bytes : contents) {
                md.update(bytes);
            }
            byte[] d = md.digest();
            return HexFormat.of().formatHex(d, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
