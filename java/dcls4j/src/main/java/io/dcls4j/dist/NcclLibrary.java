package io.dcls4j.dist;

import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds and loads NCCL's {@code libnccl.so.2}, only when a {@link NcclCommunicator} is made. Where from, in
 * order: the file named by {@code dcls4j.nccl.library} / {@code DCLS4J_NCCL_LIBRARY}; the first
 * {@code java.library.path} folder holding it; PyTorch's wheel ({@code nvidia/nccl/lib} under the site-packages
 * of {@code $VIRTUAL_ENV}, {@code $CONDA_PREFIX}, {@code ~/.local} and the system's Pythons); the system
 * ({@code /usr/lib/x86_64-linux-gnu}, Debian's and NVIDIA's libnccl2 packages).
 */
final class NcclLibrary {
    static final String NAME = "libnccl.so.2";

    private static volatile Path loaded;
    private static volatile String failure;

    private NcclLibrary() {}

    static synchronized Path load() {
        if (loaded != null) {
            return loaded;
        }
        if (failure != null) {
            throw new DistributedException(-1, -1, 0, failure);
        }
        List<Path> candidates = candidates();
        for (Path p : candidates) {
            if (Files.isRegularFile(p)) {
                try {
                    System.load(p.toAbsolutePath().toString());
                    loaded = p;
                    return p;
                } catch (UnsatisfiedLinkError e) {
                    failure = "could not load " + p + ": " + e.getMessage();
                    throw new DistributedException(-1, -1, 0, failure);
                }
            }
        }
        failure = "NCCL's " + NAME + " not found (tried " + candidates + "); pip install torch (it brings"
                + " nvidia-nccl-cu12) or name the file with -Ddcls4j.nccl.library=/path/to/" + NAME;
        throw new DistributedException(-1, -1, 0, failure);
    }

    static List<Path> candidates() {
        List<Path> out = new ArrayList<>();
        String setting = System.getProperty("dcls4j.nccl.library", System.getenv("DCLS4J_NCCL_LIBRARY"));
        if (setting != null && !setting.isBlank()) {
            return List.of(Path.of(setting));
        }
        for (String d : System.getProperty("java.library.path", "").split(File.pathSeparator)) {
            if (!d.isBlank()) {
                out.add(Path.of(d, NAME));
            }
        }
        List<Path> prefixes = new ArrayList<>();
        for (String env : new String[] {"VIRTUAL_ENV", "CONDA_PREFIX"}) {
            String v = System.getenv(env);
            if (v != null && !v.isBlank()) {
                prefixes.add(Path.of(v));
            }
        }
        prefixes.add(Path.of(System.getProperty("user.home", "/root"), ".local"));
        prefixes.add(Path.of("/usr/local"));
        prefixes.add(Path.of("/usr"));
        for (Path prefix : prefixes) {
            Path lib = prefix.resolve("lib");
            if (!Files.isDirectory(lib)) {
                continue;
            }
            try (DirectoryStream<Path> pythons = Files.newDirectoryStream(lib, "python3*")) {
                for (Path python : pythons) {
                    for (String site : new String[] {"site-packages", "dist-packages"}) {
                        out.add(python.resolve(site).resolve("nvidia/nccl/lib").resolve(NAME));
                    }
                }
            } catch (IOException e) {
                // an unreadable folder is one place fewer to look
            }
        }
        out.add(Path.of("/usr/lib/x86_64-linux-gnu", NAME));
        out.add(Path.of("/usr/local/cuda/lib64", NAME));
        return out;
    }
}
