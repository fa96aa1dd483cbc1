package io.dcls4j.fuzz;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * The fuzz harness: random configurations of every public entry point (layers, ops, tensors, optimizers,
 * checkpoints), valid and invalid, run in child JVMs ({@link FuzzWorker}) so that a crash is counted, not
 * fatal. A valid case must match the float64 reference, an invalid one must be refused with
 * IllegalArgumentException, IllegalStateException or DclsException (IOException for files) with a message;
 * a dead child is a crash, a case over the time limit a hang. Exits 1 if any case failed.
 *
 * <pre>
 * java -cp dcls4j-tools-0.1.0-all.jar io.dcls4j.fuzz.Fuzz [--from 0] [--count 2000] [--workers 2]
 *      [--batch 250] [--timeout 30] [--memory-limit 256m] [--report fuzz-report.txt] [--env NAME=VALUE]...
 * </pre>
 * Seeds [from, from + count) are split into batches, one child JVM per batch (restarted after the case
 * that crashed or hung), {@code workers} children at a time. {@code --env} sets environment variables of
 * the children only (LD_PRELOAD of the sanitizer runtimes, say). One case again: {@code --from S --count 1}.
 */
public final class Fuzz {
    private Fuzz() {}

    record Result(long seed, Outcome outcome, String detail) {
    }

    public static void main(String[] args) throws Exception {
        long from = 0;
        long count = 2000;
        int workers = 2;
        int batch = 250;
        int timeout = 30;
        String memoryLimit = "256m";
        Path report = null;
        Map<String, String> env = new TreeMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--from" -> from = Long.parseLong(v);
                case "--count" -> count = Long.parseLong(v);
                case "--workers" -> workers = Integer.parseInt(v);
                case "--batch" -> batch = Integer.parseInt(v);
                case "--timeout" -> timeout = Integer.parseInt(v);
                case "--memory-limit" -> memoryLimit = v;
                case "--report" -> report = Path.of(v);
                case "--env" -> env.put(v.substring(0, v.indexOf('=')), v.substring(v.indexOf('=') + 1));
                default -> {
                    System.err.println("unknown option " + a + "; see io.dcls4j.fuzz.Fuzz's documentation");
                    System.exit(2);
                }
            }
            i++;
        }
        long start = System.nanoTime();
        ConcurrentLinkedQueue<long[]> batches = new ConcurrentLinkedQueue<>();
        for (long s = from; s < from + count; s += batch) {
            batches.add(new long[] {s, Math.min(from + count, s + batch)});
        }
        List<Result> results = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        String limit = memoryLimit;
        int caseTimeout = timeout;
        int childThreads = Math.max(1, Runtime.getRuntime().availableProcessors() / workers);
        for (int w = 0; w < workers; w++) {
            threads.add(Thread.ofPlatform().start(() -> {
                long[] b;
                while ((b = batches.poll()) != null) {
                    try {
                        runBatch(b[0], b[1], limit, caseTimeout, childThreads, env, results);
                    } catch (IOException | InterruptedException e) {
                        results.add(new Result(b[0], Outcome.CRASH, "could not run a child JVM: " + e));
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        String summary = summarise(results, from, count, seconds);
        System.out.println(summary);
        if (report != null) {
            List<String> lines = new ArrayList<>();
            lines.add(summary);
            synchronized (results) {
                results.stream().sorted((x, y) -> Long.compare(x.seed, y.seed))
                        .forEach(r -> lines.add(r.seed + " " + r.outcome + " " + r.detail));
            }
            Files.write(report, lines, StandardCharsets.UTF_8);
        }
        System.exit(results.stream().allMatch(r -> r.outcome.fine) && results.size() == count ? 0 : 1);
    }

    /** Runs seeds [from, to) in child JVMs, a new one after each crash or hang. */
    private static void runBatch(long from, long to, String memoryLimit, int timeout, int threads,
                                 Map<String, String> env, List<Result> results) throws IOException, InterruptedException {
        long next = from;
        while (next < to) {
            Path stderr = Files.createTempFile("dcls4j-fuzz-", ".stderr");
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-XX:+UseSerialGC",
                    "-Ddcls4j.memoryLimit=" + memoryLimit,
                    "-cp", System.getProperty("java.class.path"), FuzzWorker.class.getName(),
                    Long.toString(next), Long.toString(to)));
            ProcessBuilder pb = new ProcessBuilder(command).redirectError(stderr.toFile());
            pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
            pb.environment().putAll(env);
            Process p = pb.start();
            BlockingQueue<String> lines = new ArrayBlockingQueue<>(1024);
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        lines.put(line);
                    }
                } catch (IOException | InterruptedException e) {
                    // the child died: the end of its output
                } finally {
                    lines.offer("EOF");
                }
            });
            long current = -1;
            while (true) {
                String line = lines.poll(timeout, TimeUnit.SECONDS);
                if (line == null) { // the case in progress ran past the limit
                    p.destroyForcibly().waitFor();
                    long seed = current >= 0 ? current : next;
                    results.add(new Result(seed, Outcome.HANG, "no result after " + timeout + " s: "
                            + FuzzWorker.oneLine(FuzzCases.make(seed).toString())));
                    next = seed + 1;
                    break;
                }
                if (line.equals("EOF")) {
                    int code = p.waitFor();
                    if (current >= 0) { // died inside a case
                        results.add(new Result(current, Outcome.CRASH, "child exit " + code + " in "
                                + FuzzWorker.oneLine(FuzzCases.make(current).toString()) + "; stderr: "
                                + tail(stderr)));
                        next = current + 1;
                    } else {
                        next = to; // every case reported
                        if (code != 0) {
                            results.add(new Result(to - 1, Outcome.CRASH, "child exit " + code + " after its"
                                    + " last case; stderr: " + tail(stderr)));
                        }
                    }
                    break;
                }
                if (line.startsWith("START ")) {
                    current = Long.parseLong(line.substring(6).trim());
                } else if (line.startsWith("END ")) {
                    String[] parts = line.split(" ", 4);
                    results.add(new Result(Long.parseLong(parts[1]), Outcome.valueOf(parts[2]),
                            parts.length > 3 ? parts[3] : ""));
                    next = Long.parseLong(parts[1]) + 1;
                    current = -1;
                }
            }
            reader.join(1000);
            Files.deleteIfExists(stderr);
        }
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static String summarise(List<Result> results, long from, long count, double seconds) {
        Map<Outcome, Integer> byOutcome = new EnumMap<>(Outcome.class);
        Map<String, Integer> failedByKind = new TreeMap<>();
        StringBuilder failures = new StringBuilder();
        synchronized (results) {
            for (Result r : results) {
                byOutcome.merge(r.outcome, 1, Integer::sum);
                if (!r.outcome.fine) {
                    failures.append("  ").append(r.seed).append(' ').append(r.outcome).append(' ').append(r.detail)
                            .append('\n');
                }
            }
        }
        int failed = results.stream().mapToInt(r -> r.outcome.fine ? 0 : 1).sum();
        failedByKind.put("failed", failed);
        return String.format(java.util.Locale.ROOT, "fuzz: seeds [%d, %d): %d cases in %.0f s: %s%s%n%s",
                from, from + count, results.size(), seconds, byOutcome,
                failed == 0 ? "; all fine" : "; " + failed + " FAILED:", failures).trim();
    }
}
