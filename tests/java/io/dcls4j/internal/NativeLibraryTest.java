package io.dcls4j.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The loader in fresh JVMs: extraction from the classpath, concurrent starts, and the override property. */
class NativeLibraryTest {

    record Run(int exitCode, String output) {}

    static Process start(String... properties) throws IOException {
        return start(LoadProbe.class, properties);
    }

    static Process start(Class<?> probe, String... properties) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(List.of(properties));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(probe.getName());
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    static Run finish(Process p) throws Exception {
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "probe JVM did not finish");
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void fourJvmsExtractingIntoOneEmptyCacheAtOnceAllLoad(@TempDir Path cache) throws Exception {
        List<Process> started = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            started.add(start("-Ddcls4j.cache.dir=" + cache));
        }
        for (Process p : started) {
            Run r = finish(p);
            assertEquals(0, r.exitCode(), r.output());
            assertTrue(r.output().contains("oneDNN 3.13"), r.output());
        }
        try (Stream<Path> dirs = Files.list(cache)) {
            List<Path> extracted = dirs.toList();
            assertEquals(1, extracted.size(), "one folder per library build: " + extracted);
            for (String lib : NativeLibrary.LIBRARIES) {
                assertTrue(Files.size(extracted.get(0).resolve(lib)) > 0, lib);
            }
            // the CUDA library is extracted with the others when the jar has it (loaded only on demand)
            assertEquals(cudaInJar(), Files.isRegularFile(extracted.get(0).resolve(NativeLibrary.CUDA_LIBRARY)));
            try (Stream<Path> files = Files.list(extracted.get(0))) {
                assertTrue(files.noneMatch(f -> f.toString().endsWith(".tmp")), "temporary files left behind");
            }
        }
    }

    @Test
    void libraryPathOverridesTheJar(@TempDir Path cache) throws Exception {
        Run first = finish(start("-Ddcls4j.cache.dir=" + cache));
        assertEquals(0, first.exitCode(), first.output());
        Path dir;
        try (Stream<Path> dirs = Files.list(cache)) {
            dir = dirs.findFirst().orElseThrow();
        }
        Run overridden = finish(start("-Ddcls4j.library.path=" + dir));
        assertEquals(0, overridden.exitCode(), overridden.output());
        assertTrue(overridden.output().contains("from " + dir), overridden.output());
    }

    static boolean cudaInJar() {
        return NativeLibrary.class.getResource(NativeLibrary.RESOURCE_DIR + NativeLibrary.CUDA_LIBRARY) != null;
    }

    @Test
    void cpuOnlyUseNeverLoadsTheCudaLibrary(@TempDir Path cache) throws Exception {
        Run r = finish(start(CudaLoadProbe.class, "-Ddcls4j.cache.dir=" + cache));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("cpu only: cudaLoaded=false"), r.output());
        // asking for devices loads it where it is bundled, and never throws where it is not
        assertTrue(r.output().contains("bundled=" + cudaInJar() + " cudaLoaded=false"), r.output());
        assertTrue(r.output().contains("cudaLoaded=" + cudaInJar() + (cudaInJar() ? "" : " reason=")), r.output());
    }

    @Test
    void withoutTheCudaLibraryCudaIsReportedAsNotBuilt(@TempDir Path cache, @TempDir Path cpuOnly) throws Exception {
        assertEquals(0, finish(start("-Ddcls4j.cache.dir=" + cache)).exitCode());
        Path extracted;
        try (Stream<Path> dirs = Files.list(cache)) {
            extracted = dirs.findFirst().orElseThrow();
        }
        for (String lib : NativeLibrary.LIBRARIES) {
            Files.copy(extracted.resolve(lib), cpuOnly.resolve(lib));
        }
        Run r = finish(start(CudaLoadProbe.class, "-Ddcls4j.library.path=" + cpuOnly));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("cpu only: cudaLoaded=false"), r.output());
        assertTrue(r.output().contains("bundled=false"), r.output());
        assertTrue(r.output().contains("count=0 cudaLoaded=false reason=dcls4j was built without CUDA: "
                + NativeLibrary.CUDA_LIBRARY + " is not in dcls4j.library.path=" + cpuOnly), r.output());
        assertTrue(r.output().contains("allocate: DclsException: cuda:0 is not available: dcls4j was built without"
                + " CUDA"), r.output());
    }

    @Test
    void aFolderWithoutTheLibrariesGivesAClearError(@TempDir Path empty) throws Exception {
        Run r = finish(start("-Ddcls4j.library.path=" + empty));
        assertTrue(r.exitCode() != 0);
        assertTrue(r.output().contains("native library " + empty.resolve("libgomp.so.1") + " not found"), r.output());
    }

    @Test
    void aLoadFailureIsTheSameDclsExceptionOnEveryCallNeverAnError(@TempDir Path broken) throws Exception {
        Files.writeString(broken.resolve("libgomp.so.1"), "not an ELF file");
        Run r = finish(start(FailingLoadProbe.class, "-Ddcls4j.library.path=" + broken));
        assertEquals(0, r.exitCode(), r.output());
        for (int call = 0; call < 3; call++) {
            assertTrue(r.output().contains("call " + call + ": DclsException LOAD_FAILED: cannot load "
                    + broken.resolve("libgomp.so.1")), r.output());
        }
        assertTrue(!r.output().contains("Error"), r.output());
    }

    @Test
    void theCacheFoldersOfOtherBuildsAreRemovedAndLeftoversOfAKilledExtractionToo(@TempDir Path cache)
            throws Exception {
        Path old = Files.createDirectories(cache.resolve("0.0.9-0123456789abcdef0123"));
        Files.writeString(old.resolve(".lock"), "");
        Files.writeString(old.resolve("libdcls.so"), "an old build");
        Files.writeString(old.resolve(COMPLETE), "libdcls.so");
        Path notOurs = Files.createDirectories(cache.resolve("somebody-elses"));
        Run r = finish(start("-Ddcls4j.cache.dir=" + cache));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(!Files.exists(old), "the old build's folder is still there");
        assertTrue(Files.isDirectory(notOurs), "a folder without our lock file must be left alone");
    }

    private static final String COMPLETE = NativeLibrary.COMPLETE_MARKER;
}
