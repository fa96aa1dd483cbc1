package io.dcls4j.dist;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Data-parallel training under a real {@code mpirun -np 2} (Open MPI; CI installs it), against the same training
 * in one process without MPI: the two-process model must be the one-process model (PyTorch DDP's guarantee), and
 * a failing rank must end the job with a message naming the surviving rank, within the timeout.
 */
class DataParallelMpiTest {
    private static final long JOB_LIMIT_SECONDS = 240;
    private static String mpirun;

    @BeforeAll
    static void findMpirun() {
        mpirun = onPath("mpirun");
        assumeTrue(mpirun != null, "mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev);"
                + " the MPI tests need it");
    }

    @Test
    void twoProcessesTrainTheModelOfOneProcessWithTheSameGlobalBatch(@TempDir Path dir) throws Exception {
        Path single = dir.resolve("single.bin");
        // Without mpirun and with no MPI library to be found: the one-process path never loads MPI.
        Result one = run(List.of(), single, List.of("-Ddcls4j.mpi.library=" + dir.resolve("no-libmpi.so.40")));
        assertEquals(0, one.exitCode, one.output);
        Path two = dir.resolve("two.bin");
        Result mpi = run(mpirunPrefix(2), two, List.of());
        assertEquals(0, mpi.exitCode, mpi.output);
        assertFalse(Files.exists(dir.resolve("two.bin.rank1")), "only rank 0 writes");

        Map<String, float[]> expected = read(single);
        Map<String, float[]> actual = read(two);
        // DataParallel's steady-state steps (gradientReady and finish, steps 10-19) allocate nothing on the heap.
        assertEquals(0f, actual.remove("dataParallel.allocatedBytes")[0], "bytes allocated by DataParallel");
        expected.remove("dataParallel.allocatedBytes");
        assertEquals(expected.keySet(), actual.keySet());
        for (String name : expected.keySet()) {
            float[] e = expected.get(name);
            float[] a = actual.get(name);
            assertEquals(e.length, a.length, name);
            double scale = 0;
            double worst = 0;
            for (int i = 0; i < e.length; i++) {
                scale = Math.max(scale, Math.abs(e[i]));
                worst = Math.max(worst, Math.abs(e[i] - a[i]));
            }
            assertTrue(scale > 0, name + " is all zero: the comparison would prove nothing");
            assertTrue(worst <= 1e-4 * scale, name + ": max |2 ranks - 1 rank| = " + worst
                    + ", more than 1e-4 of its largest magnitude " + scale);
        }
        // The parameters moved from the initialisation (the training did something to compare).
        assertTrue(expected.containsKey("weight.grad0"));
    }

    @Test
    void aRankThatExitsEndsTheJobAndTheOtherReportsItsRank(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("exit.bin");
        Result r = run(mpirunPrefix(2), out, List.of("-Dtest.failRank=1", "-Dtest.failStep=5",
                "-Dtest.failMode=exit", "-Ddcls4j.dist.timeout=20"));
        assertNotEquals(0, r.exitCode, r.output);
        assertTrue(r.seconds < 60, "took " + r.seconds + " s\n" + r.output);
        assertTrue(r.output.contains("dcls4j dist: rank 0 of 2:"), r.output);
        assertNoRankLeft(dir, out);
    }

    @Test
    void aRankThatHangsMakesTheOtherTimeOutAndAbortTheJob(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("hang.bin");
        Result r = run(mpirunPrefix(2), out, List.of("-Dtest.failRank=1", "-Dtest.failStep=5",
                "-Dtest.failMode=hang", "-Ddcls4j.dist.timeout=5"));
        assertNotEquals(0, r.exitCode, r.output);
        assertTrue(r.output.contains("rank 0 of 2: MPI_Iallreduce of gradient bucket"), r.output);
        assertTrue(r.output.contains("did not complete within 5.0 s"), r.output);
        assertTrue(r.output.contains("DistributedTimeoutException"), r.output);
        assertTrue(r.seconds < 90, "took " + r.seconds + " s\n" + r.output);
        assertNoRankLeft(dir, out);
    }

    private record Result(int exitCode, String output, double seconds) {}

    private static List<String> mpirunPrefix(int np) {
        // vader's single-copy (CMA) needs ptrace rights that containers often lack; plain shared memory works.
        return List.of(mpirun, "--allow-run-as-root", "--oversubscribe", "-np", Integer.toString(np),
                "--mca", "btl_vader_single_copy_mechanism", "none");
    }

    private static Result run(List<String> launcher, Path out, List<String> properties)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(launcher);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Xmx256m");
        cmd.add("-XX:TieredStopAtLevel=1"); // 20 small steps: start fast
        for (String p : new String[] {"dcls4j.cache.dir", "dcls4j.library.path"}) {
            if (System.getProperty(p) != null) {
                cmd.add("-D" + p + "=" + System.getProperty(p));
            }
        }
        cmd.addAll(properties);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(DataParallelTrainMain.class.getName());
        cmd.add(out.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Path log = out.resolveSibling(out.getFileName() + ".log");
        pb.redirectOutput(log.toFile());
        long start = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(JOB_LIMIT_SECONDS, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("the job was still running after " + JOB_LIMIT_SECONDS + " s:\n" + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log), (System.nanoTime() - start) / 1e9);
    }

    /** Every rank's JVM (its pid written at start) is gone shortly after mpirun returned. */
    private static void assertNoRankLeft(Path dir, Path out) throws Exception {
        for (int rank = 0; rank < 2; rank++) {
            Path pidFile = dir.resolve(out.getFileName() + ".pid" + rank);
            assertTrue(Files.exists(pidFile), "rank " + rank + " never started");
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                if (System.nanoTime() > deadline) {
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                    fail("rank " + rank + " (pid " + pid + ") was still running after mpirun returned");
                }
                Thread.sleep(100);
            }
        }
    }

    private static Map<String, float[]> read(Path file) throws IOException {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                String name = in.readUTF();
                float[] v = new float[in.readInt()];
                for (int k = 0; k < v.length; k++) {
                    v[k] = in.readFloat();
                }
                out.put(name, v);
            }
        }
        return out;
    }

    static String onPath(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(d, program);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }
}
