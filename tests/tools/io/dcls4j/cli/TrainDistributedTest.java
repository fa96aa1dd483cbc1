package io.dcls4j.cli;

import io.dcls4j.checkpoint.Safetensors;
import io.dcls4j.data.FashionMnist;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code dcls4j train} under a real {@code mpirun} (Open MPI; CI installs it, and the Fashion-MNIST files): two
 * processes, each with half of every global batch of 32, train the model that one process trains with the same
 * seed, checkpoint against checkpoint after 100 steps (PyTorch DDP's promise, to float rounding), and only rank 0
 * prints and writes.
 */
class TrainDistributedTest {
    private static final long JOB_LIMIT_SECONDS = 300;
    private static String mpirun;

    @BeforeAll
    static void prerequisites() {
        mpirun = onPath("mpirun");
        assumeTrue(mpirun != null, "mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)");
        assumeTrue(FashionMnist.isPresent(FashionMnist.DEFAULT_DIR), "dataset-fashion-mnist is not installed");
    }

    @Test
    void twoProcessesWriteTheCheckpointOfOneAfter100Steps(@TempDir Path dir) throws Exception {
        Path one = dir.resolve("one");
        Path two = dir.resolve("two");
        String log1 = train(1, one);
        String log2 = train(2, two);
        assertTrue(log2.contains("x 2 processes (MPI, 16 images each per step)"), log2);
        assertEquals(1, count(log2, "; wrote "), "only rank 0 prints:\n" + log2);
        assertTrue(log1.contains("test accuracy "), log1);

        Map<String, Safetensors.Entry> expected = Safetensors.read(one.resolve("model.safetensors")).tensors();
        Map<String, Safetensors.Entry> actual = Safetensors.read(two.resolve("model.safetensors")).tensors();
        assertEquals(expected.keySet(), actual.keySet());
        int compared = 0;
        for (String name : expected.keySet()) {
            double[] e = expected.get(name).array().data();
            double[] a = actual.get(name).array().data();
            assertEquals(e.length, a.length, name);
            // Relative to the tensor's norm: ||2 processes - 1 process|| / ||1 process||. The two runs differ only in
            // the order of float sums (a batch of 32 against two of 16 plus MPI's sum), which 100 AdamW steps carry
            // on: one process with 2 threads against 1 thread differs as much (max |difference| up to 1.1e-4 of a
            // tensor's largest value, norm-relative up to 4e-5; BENCHMARKS.md). A wrong average, shard or broadcast
            // moves whole tensors by far more.
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < e.length; i++) {
                diff += (e[i] - a[i]) * (e[i] - a[i]);
                norm += e[i] * e[i];
            }
            assertTrue(norm > 0, name + " is all zero: the comparison would prove nothing");
            double relative = Math.sqrt(diff / norm);
            assertTrue(relative <= 1e-4, name + ": ||2 processes - 1 process|| / ||1 process|| = " + relative);
            compared++;
        }
        assertTrue(compared > 10, "compared only " + compared + " tensors");
        // the optimizer state (AdamW's moments and step count) is the same too: a resumed job goes on identically
        Map<String, Safetensors.Entry> o1 = Safetensors.read(one.resolve("optimizer.safetensors")).tensors();
        Map<String, Safetensors.Entry> o2 = Safetensors.read(two.resolve("optimizer.safetensors")).tensors();
        assertEquals(100.0, o1.get("optimizer.step").array().data()[0]);
        assertEquals(100.0, o2.get("optimizer.step").array().data()[0]);
    }

    @Test
    void aGlobalBatchThatDoesNotSplitIsAUsageErrorOnEveryRank(@TempDir Path dir) throws Exception {
        Result r = launch(2, dir.resolve("odd"), "--batch-size", "33", "--steps", "100");
        assertEquals(Main.USAGE, r.exitCode, r.output);
        assertTrue(r.output.contains("--batch-size 33 (the global batch) does not split evenly over 2 processes"),
                r.output);
    }

    @Test
    void killingOneRankEndsTheJobAndTheOtherSaysWhichItWas(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("killed");
        Path log = out.resolveSibling("killed.log");
        Process job = start(2, out, log, "--batch-size", "32", "--steps", "100000");
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(JOB_LIMIT_SECONDS);
            while (!Files.readString(log).contains("epoch 1/")) {   // both ranks are training
                assertTrue(job.isAlive(), "the job ended before training:\n" + Files.readString(log));
                assertTrue(System.nanoTime() < deadline, "no progress:\n" + Files.readString(log));
                Thread.sleep(200);
            }
            ProcessHandle rank1 = job.descendants().filter(h -> rankOf(h) == 1).findFirst()
                    .orElseThrow(() -> new AssertionError("no process of rank 1 among mpirun's children"));
            long killed = System.nanoTime();
            rank1.destroyForcibly();   // SIGKILL: no shutdown hook, no MPI_Finalize
            assertTrue(job.waitFor(60, TimeUnit.SECONDS), "the job still runs 60 s after rank 1 was killed:\n"
                    + Files.readString(log));
            double seconds = (System.nanoTime() - killed) / 1e9;
            String output = Files.readString(log);
            assertTrue(job.exitValue() != 0, output);
            assertTrue(output.contains("dcls4j dist: rank 0 of 2:"), "rank 0 does not say who it is:\n" + output);
            assertTrue(seconds < 60, "took " + seconds + " s");
            assertTrue(job.descendants().noneMatch(ProcessHandle::isAlive), "a rank is left running");
        } finally {
            job.descendants().forEach(ProcessHandle::destroyForcibly);
            job.destroyForcibly();
        }
    }

    /** The MPI rank of a process of this job (OMPI_COMM_WORLD_RANK in its environment), -1 when not a rank. */
    private static int rankOf(ProcessHandle h) {
        try {
            for (String entry : Files.readString(Path.of("/proc", Long.toString(h.pid()), "environ")).split("\0")) {
                if (entry.startsWith("OMPI_COMM_WORLD_RANK=")) {
                    return Integer.parseInt(entry.substring("OMPI_COMM_WORLD_RANK=".length()));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;   // gone, or not ours to read
        }
        return -1;
    }

    private record Result(int exitCode, String output) {}

    private static String train(int processes, Path out) throws Exception {
        Result r = launch(processes, out, "--batch-size", "32", "--steps", "100");
        assertEquals(0, r.exitCode, r.output);
        return r.output;
    }

    private static Result launch(int processes, Path out, String... more) throws IOException, InterruptedException {
        Path log = out.resolveSibling(out.getFileName() + ".log");
        Process p = start(processes, out, log, more);
        if (!p.waitFor(JOB_LIMIT_SECONDS, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("mpirun -np " + processes + " was still running after " + JOB_LIMIT_SECONDS + " s:\n"
                    + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log));
    }

    /** mpirun -np processes ... train --out out [more], its output into log. */
    private static Process start(int processes, Path out, Path log, String... more) throws IOException {
        // vader's single-copy (CMA) needs ptrace rights that containers often lack; plain shared memory works.
        List<String> cmd = new ArrayList<>(List.of(mpirun, "--allow-run-as-root", "--oversubscribe", "-np",
                Integer.toString(processes), "--mca", "btl_vader_single_copy_mechanism", "none",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx512m"));
        for (String p : new String[] {"dcls4j.cache.dir", "dcls4j.library.path"}) {
            if (System.getProperty(p) != null) {
                cmd.add("-D" + p + "=" + System.getProperty(p));
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "train",
                "--seed", "1", "--threads", "1", "--eval-images", "1000", "--dist-timeout", "60",
                "--out", out.toString()));
        cmd.addAll(List.of(more));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    private static String onPath(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(d, program);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }
}
