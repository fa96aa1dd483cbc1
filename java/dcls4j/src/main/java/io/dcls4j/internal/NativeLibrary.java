package io.dcls4j.internal;

import io.dcls4j.DclsException;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.stream.Stream;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.WARNING;

/**
 * Finds and loads {@code libdcls.so} and the oneDNN and OpenMP libraries beside it, and, only when a
 * CUDA device is first wanted, {@code libdcls_cuda.so}; as ONNX Runtime and zstd-jni do it.
 *
 * <p>Where from, in order:
 * <ol>
 *   <li>{@code dcls4j.library.path} / {@code DCLS4J_LIBRARY_PATH}: a folder holding the libraries; they are
 *       loaded from there and nothing is extracted.
 *   <li>The jar (resources under {@value #RESOURCE_DIR}), extracted once into a cache folder
 *       ({@code dcls4j.cache.dir} / {@code DCLS4J_CACHE_DIR}, default {@code $XDG_CACHE_HOME/dcls4j} or
 *       {@code ~/.cache/dcls4j}) named after the version and the libraries' CRC-32s as the jar's directory
 *       records them, so that two builds never share a folder and a start reads no library bytes once a
 *       folder's {@code .complete} marker exists. Extraction is safe when several JVMs start at once: each
 *       writes its own temporary file under a file lock and moves it into place atomically. Folders of other
 *       builds are removed afterwards, unless another JVM holds their lock.
 *   <li>{@code java.library.path}: the first folder there that holds {@code libdcls.so}, when the jar has no
 *       libraries (a distribution that installs them system-wide) or extraction failed (a read-only home).
 * </ol>
 * {@code dcls4j.cuda.library} / {@code DCLS4J_CUDA_LIBRARY} names a {@code libdcls_cuda.so} file to load
 * instead of the one beside the others (a GPU host's own build, or the tests' CPU emulation of CUDA).
 *
 * <p>Each step is logged through {@link System.Logger} {@code io.dcls4j.native}: extraction, the load
 * location and cache clean-up at DEBUG (a library's first use says nothing on the console), a fallback or a
 * failure at WARNING. A failure is remembered: every later use gets a {@link DclsException} with status
 * {@link DclsException.Status#LOAD_FAILED} and the same cause, never an {@code ExceptionInInitializerError} or
 * {@code NoClassDefFoundError}.
 */
public final class NativeLibrary {
    static final String RESOURCE_DIR = "/io/dcls4j/native/linux-x86_64/";
    /** Load order: each library's dependencies come before it. */
    static final List<String> LIBRARIES = List.of("libgomp.so.1", "libdnnl.so.3", "libdcls.so");
    /** Built only where nvcc was found; needs only the driver (libcuda.so.1) at run time. */
    public static final String CUDA_LIBRARY = "libdcls_cuda.so";
    /** Written last into a cache folder: its presence means every library there is complete. */
    static final String COMPLETE_MARKER = ".complete";

    private static final System.Logger LOG = System.getLogger("io.dcls4j.native");

    private static volatile Path loadedFrom;
    private static volatile String failure;
    private static volatile boolean cudaLoaded;

    private NativeLibrary() {}

    /** Loads the native libraries once; later calls return at once, or throw the first failure again. */
    public static synchronized Path load() {
        if (loadedFrom != null) {
            return loadedFrom;
        }
        if (failure != null) {
            throw new DclsException(DclsException.Status.LOAD_FAILED, failure);
        }
        try {
            loadedFrom = locateAndLoad();
            return loadedFrom;
        } catch (DclsException e) {
            failure = e.getMessage();
            LOG.log(WARNING, "dcls4j's native libraries could not be loaded: {0}", failure);
            throw e;
        }
    }

    /** {@link #load()} for a static initialiser: never throws; the failure is thrown by the next load(). */
    static void tryLoad() {
        try {
            load();
        } catch (RuntimeException e) {
            // remembered in `failure`
        }
    }

    private static Path locateAndLoad() {
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw loadFailure("dcls4j ships native libraries for linux-x86_64 only, not " + os + "/" + arch, null);
        }
        String override = setting("dcls4j.library.path", "DCLS4J_LIBRARY_PATH");
        if (override != null) {
            Path dir = Path.of(override);
            loadAll(dir, " (dcls4j.library.path=" + override + ")", false);
            LOG.log(DEBUG, "dcls4j: native libraries loaded from {0} (dcls4j.library.path)", dir);
            return dir;
        }
        String whyNotJar;
        if (NativeLibrary.class.getResource(RESOURCE_DIR + "libdcls.so") == null) {
            whyNotJar = "the jar has no native libraries (" + RESOURCE_DIR + ")";
        } else {
            try {
                Path dir = extract();
                loadAll(dir, "", false);
                LOG.log(DEBUG, "dcls4j: native libraries loaded from {0}", dir);
                return dir;
            } catch (IOException e) {
                whyNotJar = "cannot extract the native libraries to " + cacheRoot() + ": " + e.getMessage();
            }
        }
        Path dir = onJavaLibraryPath();
        if (dir == null) {
            throw loadFailure(whyNotJar + ", and no folder of java.library.path ("
                    + System.getProperty("java.library.path", "") + ") holds libdcls.so"
                    + "; set dcls4j.library.path to a folder with the libraries, or dcls4j.cache.dir to a writable one",
                    null);
        }
        LOG.log(WARNING, "dcls4j: {0}; falling back to {1} from java.library.path", whyNotJar, dir);
        loadAll(dir, " (from java.library.path)", true);
        return dir;
    }

    /**
     * Loads {@link #LIBRARIES} from {@code dir} in order. With {@code systemInstall} (a folder of java.library.path)
     * only libdcls.so must be there: libgomp and oneDNN may come from the system, found by the dynamic linker.
     */
    private static void loadAll(Path dir, String where, boolean systemInstall) {
        for (String name : LIBRARIES) {
            Path lib = dir.resolve(name).toAbsolutePath();
            if (!Files.isRegularFile(lib)) {
                if (systemInstall && !name.equals("libdcls.so")) {
                    continue; // a system-wide install: the dynamic linker finds oneDNN and libgomp itself
                }
                throw loadFailure("native library " + lib + " not found" + where, null);
            }
            try {
                System.load(lib.toString());
            } catch (UnsatisfiedLinkError e) {
                throw loadFailure("cannot load " + lib + ": " + e.getMessage(), e);
            }
        }
    }

    private static Path onJavaLibraryPath() {
        for (String entry : System.getProperty("java.library.path", "").split(File.pathSeparator)) {
            if (!entry.isBlank() && Files.isRegularFile(Path.of(entry, "libdcls.so"))) {
                return Path.of(entry);
            }
        }
        return null;
    }

    private static DclsException loadFailure(String message, Throwable cause) {
        return new DclsException(DclsException.Status.LOAD_FAILED, message, cause);
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
        LOG.log(DEBUG, "dcls4j: CUDA library loaded from {0}", lib);
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

    static Path cacheRoot() {
        String configured = setting("dcls4j.cache.dir", "DCLS4J_CACHE_DIR");
        if (configured != null) {
            return Path.of(configured);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("dcls4j");
    }

    private static Path extract() throws IOException {
        boolean withCuda = NativeLibrary.class.getResource(RESOURCE_DIR + CUDA_LIBRARY) != null;
        List<String> names = withCuda
                ? Stream.concat(LIBRARIES.stream(), Stream.of(CUDA_LIBRARY)).toList() : LIBRARIES;
        Path root = cacheRoot();
        Path dir = root.resolve(buildId(names));
        Path complete = dir.resolve(COMPLETE_MARKER);
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
            LOG.log(DEBUG, "dcls4j: extracting the native libraries into {0}", dir);
            try (Stream<Path> leftovers = Files.list(dir)) {   // of a JVM killed while extracting
                for (Path tmp : leftovers.filter(f -> f.toString().endsWith(".tmp")).toList()) {
                    Files.deleteIfExists(tmp);
                }
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
        removeOtherBuilds(root, dir);
        return dir;
    }

    /**
     * Removes the cache folders of other builds (other versions, or rebuilt libraries), each under its own
     * lock so that a JVM extracting into one right now is left alone. A JVM that has already loaded its
     * libraries keeps running: on Linux a mapped library stays valid after its file is deleted.
     */
    static void removeOtherBuilds(Path root, Path keep) {
        List<Path> others = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(root)) {
            dirs.filter(d -> !d.equals(keep) && Files.isDirectory(d) && Files.exists(d.resolve(".lock")))
                    .forEach(others::add);
        } catch (IOException e) {
            return;
        }
        for (Path other : others) {
            try (FileChannel lockFile = FileChannel.open(other.resolve(".lock"), StandardOpenOption.WRITE);
                 FileLock lock = lockFile.tryLock()) {
                if (lock == null) {
                    continue; // another JVM is extracting there
                }
                try (Stream<Path> files = Files.walk(other)) {
                    for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                        if (!f.equals(other) && !f.equals(other.resolve(".lock"))) {
                            Files.deleteIfExists(f);
                        }
                    }
                }
                Files.deleteIfExists(other.resolve(".lock"));
                Files.deleteIfExists(other);
                LOG.log(DEBUG, "dcls4j: removed the native library cache of another build, {0}", other);
            } catch (IOException | OverlappingFileLockException e) {
                LOG.log(DEBUG, "dcls4j: left {0} in place: {1}", other, e.toString());
            }
        }
    }

    /**
     * The cache folder's name: the version and the libraries' CRC-32s and sizes as the jar's central
     * directory records them (read without reading the libraries), or, for libraries that are plain
     * files (a development build), a SHA-256 of their contents.
     */
    static String buildId(List<String> names) throws IOException {
        StringBuilder id = new StringBuilder();
        for (String name : names) {
            URL url = NativeLibrary.class.getResource(RESOURCE_DIR + name);
            if (url == null) {
                throw new IOException("resource " + RESOURCE_DIR + name + " is missing");
            }
            URLConnection c = url.openConnection();
            if (c instanceof JarURLConnection jar) {
                jar.setUseCaches(false);
                JarEntry entry = jar.getJarEntry();
                if (entry != null && entry.getCrc() != -1) {
                    id.append(Long.toHexString(entry.getCrc())).append(Long.toHexString(entry.getSize()));
                    continue;
                }
            }
            if (name.equals("libdcls.so") || name.equals(CUDA_LIBRARY)) {
                try (InputStream in = open(name)) {
                    id.append(HexFormat.of().formatHex(sha256(in.readAllBytes()), 0, 8));
                }
            }
        }
        return version() + "-" + HexFormat.of().formatHex(sha256(id.toString().getBytes()), 0, 10);
    }

    /** The library's version: the module's (a named module) or the manifest's (the class path); "dev" in a build tree. */
    static String version() {
        var descriptor = NativeLibrary.class.getModule().getDescriptor();
        if (descriptor != null && descriptor.rawVersion().isPresent()) {
            return descriptor.rawVersion().get();
        }
        Package p = NativeLibrary.class.getPackage();
        return p != null && p.getImplementationVersion() != null ? p.getImplementationVersion() : "dev";
    }

    private static InputStream open(String name) throws IOException {
        InputStream in = NativeLibrary.class.getResourceAsStream(RESOURCE_DIR + name);
        if (in == null) {
            throw new IOException("resource " + RESOURCE_DIR + name + " is missing from the classpath"
                    + " (was the native library built? run the Maven build, or set dcls4j.library.path)");
        }
        return in;
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
