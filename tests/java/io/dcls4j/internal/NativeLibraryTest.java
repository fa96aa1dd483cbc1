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
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(List.of(properties));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(LoadProbe.class.getName());
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

    @Test
    void aFolderWithoutTheLibrariesGivesAClearError(@TempDir Path empty) throws Exception {
        Run r = finish(start("-Ddcls4j.library.path=" + empty));
        assertTrue(r.exitCode() != 0);
        assertTrue(r.output().contains("native library " + empty.resolve("libgomp.so.1") + " not found"), r.output());
    }
}
